// Session tokens and the one fetch wrapper every REST call goes through. The access token is
// short-lived (15 min); a 401 triggers one refresh (rotating the refresh token) and a retry.

export type Role = "OWNER" | "ADMIN" | "AGENT" | "VIEWER";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  organisationId: string;
  role: Role;
}

const KEY = "funnel.session";
type Listener = (tokens: Tokens | null) => void;
const listeners = new Set<Listener>();

export function loadTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

export function saveTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
  listeners.forEach((l) => l(tokens));
}

export function onTokens(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

interface TokenPairJson {
  access_token: string;
  refresh_token: string;
  expires_at: string;
  organisation_id: string;
  role: string;
}

export function fromPair(pair: TokenPairJson): Tokens {
  return {
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    expiresAt: pair.expires_at,
    organisationId: pair.organisation_id,
    role: pair.role.toUpperCase() as Role,
  };
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown = null,
  ) {
    super(message);
  }
}

/** The human-readable reason in one of the API's error bodies. */
export function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === "string") return b.detail;
    if (typeof b.message === "string") return b.message;
    if (b.error && typeof b.error === "object") {
      const e = b.error as Record<string, unknown>;
      if (typeof e.message === "string") return e.message;
    }
    if (Array.isArray(b.detail) && b.detail.length) {
      const first = b.detail[0] as Record<string, unknown>;
      if (typeof first.msg === "string") return first.msg;
    }
  }
  return fallback;
}

let refreshing: Promise<Tokens | null> | null = null;

/** Exchange the refresh token once, however many callers ask at the same moment. */
export function refreshTokens(): Promise<Tokens | null> {
  if (refreshing) return refreshing;
  const current = loadTokens();
  if (!current) return Promise.resolve(null);
  refreshing = (async () => {
    try {
      const response = await fetch("/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: current.refreshToken }),
      });
      if (!response.ok) {
        saveTokens(null);
        return null;
      }
      const tokens = fromPair(await response.json());
      saveTokens(tokens);
      return tokens;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export function authHeader(): Record<string, string> {
  const tokens = loadTokens();
  return tokens ? { Authorization: `Bearer ${tokens.accessToken}` } : {};
}

/** fetch with the session's bearer token, one refresh-and-retry on 401. */
export async function authedFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const run = () =>
    fetch(input, { ...init, headers: { ...(init.headers ?? {}), ...authHeader() } });
  let response = await run();
  if (response.status === 401 && loadTokens()) {
    const refreshed = await refreshTokens();
    if (refreshed) response = await run();
  }
  return response;
}

/** JSON REST call; throws ApiError with the server's reason on a non-2xx answer. */
export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const response = await authedFetch(path, {
    ...rest,
    headers: { ...(json !== undefined ? { "Content-Type": "application/json" } : {}), ...(rest.headers ?? {}) },
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(body, `HTTP ${response.status}`), body);
  return body as T;
}

export async function login(email: string, password: string): Promise<Tokens> {
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 429) throw new ApiError(429, "Too many attempts. Try again in a few minutes.", body);
    if (response.status === 401) throw new ApiError(401, "That email and password do not match.", body);
    throw new ApiError(response.status, errorMessage(body, "Could not sign in."), body);
  }
  const tokens = fromPair(body as TokenPairJson);
  saveTokens(tokens);
  return tokens;
}

export async function logout(): Promise<void> {
  try {
    await authedFetch("/auth/logout", { method: "POST" });
  } finally {
    saveTokens(null);
  }
}

export const ROLE_RANK: Record<Role, number> = { VIEWER: 0, AGENT: 1, ADMIN: 2, OWNER: 3 };

export function atLeast(role: Role | null | undefined, needed: Role): boolean {
  return role != null && ROLE_RANK[role] >= ROLE_RANK[needed];
}
