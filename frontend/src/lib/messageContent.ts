// What a message bubble shows beyond its text: how to present its media, its buttons or list
// rows or link, and the template it was sent with (GraphQL Message.media/interactive/template).

export type MediaPresentation = "image" | "video" | "audio" | "file";

export interface MediaLike { mimeType: string | null; caption: string | null; filename: string | null; sizeBytes: number | null; url: string | null }
export interface InteractiveLike { kind: string; body: string | null; options: string[]; url: string | null; urlLabel: string | null }
export interface TemplateLike { name: string; language: string | null; parameters: string[] }

/** Images (and stickers) are drawn inline; video and audio get players; the rest a download chip. */
export function presentMedia(type: string, mimeType: string | null): MediaPresentation {
  const mime = (mimeType ?? "").toLowerCase();
  if (type === "IMAGE" || type === "STICKER" || mime.startsWith("image/")) return "image";
  if (type === "VIDEO" || mime.startsWith("video/")) return "video";
  if (type === "AUDIO" || mime.startsWith("audio/")) return "audio";
  return "file";
}

/** The name a downloaded file gets: its own, else the kind and an extension from its type. */
export function downloadName(messageId: string, media: Pick<MediaLike, "filename" | "mimeType">): string {
  if (media.filename) return media.filename;
  const ext = (media.mimeType ?? "").split("/")[1]?.split(";")[0]?.replace("jpeg", "jpg").replace("mpeg", "mp3") ?? "";
  return `media-${messageId.slice(0, 8)}${ext ? `.${ext}` : ""}`;
}

/** A size in words: "812 B", "14 KB", "3.2 MB". */
export function sizeLabel(bytes: number | null | undefined): string | null {
  if (bytes == null) return null;
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** How an interactive message reads: sent buttons/list/link, or the customer's choice. */
export function interactiveLines(i: InteractiveLike): { heading: string; options: string[]; link: { url: string; label: string } | null } {
  const heading =
    i.kind === "button" ? "Buttons"
    : i.kind === "list" ? "List"
    : i.kind === "cta_url" ? "Link button"
    : i.kind === "button_reply" ? "Tapped"
    : i.kind === "list_reply" ? "Chose"
    : "Interactive";
  return { heading, options: i.options, link: i.url ? { url: i.url, label: i.urlLabel ?? i.url } : null };
}

/** A template as one line: its name and language, then its parameters numbered as in Meta's UI. */
export function templateLine(t: TemplateLike): { title: string; parameters: string[] } {
  return {
    title: t.language ? `${t.name} (${t.language})` : t.name,
    parameters: t.parameters.map((p, i) => `{{${i + 1}}} ${p}`),
  };
}

/** Whether a caption repeats the text already shown (the stored text of a media message is its caption). */
export function captionToShow(text: string | null, caption: string | null): string | null {
  if (!caption) return null;
  return text && text.trim() === caption.trim() ? null : caption;
}
