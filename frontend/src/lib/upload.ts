// A multipart upload with progress (XMLHttpRequest reports upload progress; fetch does not),
// sent with the session's bearer token and retried once after a refresh on 401.
import { authHeader, errorMessage, freshTokens, refreshTokens } from "./auth";

export interface UploadOptions {
  fields?: Record<string, string>;
  fileField?: string;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

function once<T>(url: string, file: File, o: UploadOptions): Promise<{ status: number; body: T | null }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [k, v] of Object.entries(authHeader())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) o.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: T | null = null;
      try {
        body = xhr.responseText ? (JSON.parse(xhr.responseText) as T) : null;
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error("The upload failed (network)."));
    xhr.onabort = () => reject(new Error("The upload was cancelled."));
    o.signal?.addEventListener("abort", () => xhr.abort());
    const form = new FormData();
    form.append(o.fileField ?? "file", file, file.name);
    for (const [k, v] of Object.entries(o.fields ?? {})) form.append(k, v);
    xhr.send(form);
  });
}

export async function uploadWithProgress<T>(url: string, file: File, options: UploadOptions = {}): Promise<T> {
  const sent = (await freshTokens())?.accessToken;
  let result = await once<T>(url, file, options);
  if (result.status === 401 && sent && (await refreshTokens(sent))) {
    options.onProgress?.(0);
    result = await once<T>(url, file, options);
  }
  if (result.status < 200 || result.status >= 300) throw new Error(errorMessage(result.body, `HTTP ${result.status}`));
  options.onProgress?.(1);
  return result.body as T;
}
