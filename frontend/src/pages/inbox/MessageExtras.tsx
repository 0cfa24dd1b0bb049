// A bubble's media (fetched with the session's token, as a blob), its buttons, list rows or link,
// and the template it was sent with.
import { useEffect, useState } from "react";
import { authedFetch } from "../../lib/auth";
import { captionToShow, downloadName, interactiveLines, presentMedia, sizeLabel, templateLine, type InteractiveLike, type MediaLike, type TemplateLike } from "../../lib/messageContent";

/** The media's bytes as an object URL (revoked on unmount); null until loaded or if refused. */
function useBlobUrl(url: string | null): { src: string | null; failed: boolean } {
  const [state, setState] = useState<{ src: string | null; failed: boolean }>({ src: null, failed: false });
  useEffect(() => {
    if (!url) return;
    let objectUrl: string | null = null;
    let live = true;
    authedFetch(url)
      .then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const blob = await r.blob();
        if (!live) return;
        objectUrl = URL.createObjectURL(blob);
        setState({ src: objectUrl, failed: false });
      })
      .catch(() => { if (live) setState({ src: null, failed: true }); });
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url]);
  return state;
}

export function MediaView({ messageId, type, text, media }: { messageId: string; type: string; text: string | null; media: MediaLike }) {
  const how = presentMedia(type, media.mimeType);
  // Images, video and audio are fetched to be shown; documents only when asked for.
  const [wanted, setWanted] = useState(how !== "file");
  const { src, failed } = useBlobUrl(wanted ? media.url : null);
  const caption = captionToShow(text, media.caption);
  const name = downloadName(messageId, media);
  const size = sizeLabel(media.sizeBytes);
  let body: React.ReactNode;
  if (!media.url) body = <span className="small muted">{name}{size ? ` · ${size}` : ""} (not kept here)</span>;
  else if (failed) body = <span className="small muted">Could not load the file.</span>;
  else if (how === "image") body = src ? <img className="bubble-media" src={src} alt={caption ?? "Photo"} data-testid="message-image" /> : <span className="bubble-media placeholder small muted">Loading photo…</span>;
  else if (how === "video") body = src ? <video className="bubble-media" src={src} controls preload="metadata" data-testid="message-video" /> : <span className="small muted">Loading video…</span>;
  else if (how === "audio") body = src ? <audio src={src} controls preload="metadata" data-testid="message-audio" /> : <span className="small muted">Loading audio…</span>;
  else body = null;
  const chip = media.url && (how === "file" || src) ? (
    src ? (
      <a className="chip media-chip" href={src} download={name} data-testid="media-download">⤓ {name}{size ? ` · ${size}` : ""}</a>
    ) : (
      <button type="button" className="chip media-chip" onClick={() => setWanted(true)} data-testid="media-download">⤓ {name}{size ? ` · ${size}` : ""}</button>
    )
  ) : null;
  return (
    <div className="bubble-extra" data-testid="message-media">
      {body}
      {how !== "image" || !src ? chip : null}
      {caption ? <div>{caption}</div> : null}
    </div>
  );
}

export function InteractiveView({ interactive }: { interactive: InteractiveLike }) {
  const { heading, options, link } = interactiveLines(interactive);
  return (
    <div className="bubble-extra" data-testid="message-interactive">
      {interactive.body ? <div>{interactive.body}</div> : null}
      <div className="small muted">{heading}</div>
      {options.length ? (
        <ul className="bubble-options">
          {options.map((o, i) => <li key={i} className="chip">{o}</li>)}
        </ul>
      ) : null}
      {link ? <a className="chip" href={link.url} target="_blank" rel="noreferrer noopener">↗ {link.label}</a> : null}
    </div>
  );
}

export function TemplateView({ template }: { template: TemplateLike }) {
  const { title, parameters } = templateLine(template);
  return (
    <div className="bubble-extra small" data-testid="message-template">
      <div><span className="muted">Template</span> <strong className="mono">{title}</strong></div>
      {parameters.length ? <div className="muted">{parameters.join(" · ")}</div> : null}
    </div>
  );
}
