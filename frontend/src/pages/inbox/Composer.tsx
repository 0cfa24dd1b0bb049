// The reply box. Inside the 24-hour window: free text, quick replies and media. Outside it:
// only an approved template, with its parameters and a preview. Read-only for viewers.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Button } from "../../components/ui";
import { Icon } from "../../components/icons";
import { useToast } from "../../components/toast";
import { ApprovedTemplatesQuery, SendMessageMutation } from "../../gql/operations";
import type { ApprovedTemplatesQuery as TemplatesData, SendMessageMutation as SendData, SendMessageMutationVariables } from "../../gql/generated";
import { authedFetch, errorMessage } from "../../lib/auth";
import { duration } from "../../lib/format";
import { sendFailure } from "./sendResult";
import { composerMode, parametersComplete, renderTemplate, templatePlaceholders, windowState } from "../../lib/window";

interface Template {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string;
  components: Array<Record<string, unknown>>;
}

const DEFAULT_QUICK_REPLIES = [
  "Thanks for waiting! Let me check that for you.",
  "Could you share a few more details?",
  "I'll get back to you shortly.",
  "Is there anything else I can help with?",
];
const QUICK_KEY = "funnel.quickReplies";

/** The operator's quick replies, kept in this browser (the API has no saved replies yet). */
function useQuickReplies(): [string[], (next: string[]) => void] {
  const [replies, setReplies] = useState<string[]>(() => {
    try {
      const saved = JSON.parse(localStorage.getItem(QUICK_KEY) ?? "null");
      return Array.isArray(saved) ? saved.filter((x) => typeof x === "string") : DEFAULT_QUICK_REPLIES;
    } catch {
      return DEFAULT_QUICK_REPLIES;
    }
  });
  const save = (next: string[]) => {
    setReplies(next);
    localStorage.setItem(QUICK_KEY, JSON.stringify(next));
  };
  return [replies, save];
}

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

export function Composer(props: {
  conversationId: string;
  conversationMode: "BOT" | "HUMAN" | "CLOSED";
  windowOpen: boolean;
  windowExpiresAt: string | null;
  optedOut: boolean;
  canEdit: boolean;
  onSent: () => void;
  onTakeover: () => void;
}) {
  const toast = useToast();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(id);
  }, []);
  const window24 = windowState({ windowOpen: props.windowOpen, windowExpiresAt: props.windowExpiresAt }, now);
  const mode = composerMode({ canEdit: props.canEdit, conversationMode: props.conversationMode, optedOut: props.optedOut, window: window24 });
  const [text, setText] = useState("");
  const [quickReplies, setQuickReplies] = useQuickReplies();
  const [{ fetching }, send] = useMutation<SendData, SendMessageMutationVariables>(SendMessageMutation);
  const [uploading, setUploading] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const key = useRef(newKey());
  useEffect(() => setText(""), [props.conversationId]);

  async function run(variables: Omit<SendMessageMutationVariables, "conversationId" | "idempotencyKey">) {
    const result = await send({ conversationId: props.conversationId, idempotencyKey: key.current, ...variables });
    if (result.error) {
      toast.error(result.error.message.replace(/^\[\w+\]\s*/, ""));
      return false;
    }
    const failure = sendFailure(result.data!.sendMessage);
    if (failure) {
      toast.error(failure);
      return false;
    }
    key.current = newKey();
    props.onSent();
    return true;
  }

  async function sendText() {
    const body = text.trim();
    if (!body) return;
    if (await run({ text: body })) setText("");
  }

  async function upload(file: File) {
    setUploading(true);
    try {
      const form = new FormData();
      form.append("conversation_id", props.conversationId);
      form.append("file", file);
      if (text.trim()) form.append("caption", text.trim());
      const response = await authedFetch("/messages/media", { method: "POST", body: form, headers: { "Idempotency-Key": key.current } });
      if (!response.ok) {
        toast.error(errorMessage(await response.json().catch(() => null), `Upload failed (HTTP ${response.status})`));
        return;
      }
      key.current = newKey();
      setText("");
      props.onSent();
    } finally {
      setUploading(false);
      if (fileRef.current) fileRef.current.value = "";
    }
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void sendText();
    }
  }

  if (mode === "readonly") {
    const why = !props.canEdit
      ? "You have view-only access to this conversation."
      : props.optedOut
        ? "This customer opted out: no message can be sent."
        : "This conversation is closed. The customer's next message opens a new one.";
    return (
      <div className="composer" data-testid="composer-readonly">
        <div className="window-note muted"><Icon name="lock" size={14} /> {why}</div>
      </div>
    );
  }

  if (props.conversationMode === "BOT") {
    return (
      <div className="composer">
        <div className="row" style={{ flexWrap: "wrap" }}>
          <span className="window-note muted grow"><Icon name="bot" size={14} /> The bot is answering this conversation. Take over to reply yourself; the bot stays silent until you release it.</span>
          <Button variant="primary" onClick={props.onTakeover} data-testid="composer-takeover">Take over</Button>
        </div>
      </div>
    );
  }

  if (mode === "template") return <TemplatePicker onSend={(templateId, templateParameters) => run({ templateId, templateParameters })} busy={fetching} />;

  return (
    <div className="composer">
      <div className={`window-note ${window24.closingSoon ? "" : "muted"}`} style={window24.closingSoon ? { color: "var(--warn)" } : undefined} data-testid="window-note">
        <Icon name="clock" size={14} />
        {window24.remainingMs ? `24-hour window open · closes in ${duration(window24.remainingMs)}` : "24-hour window open"}
      </div>
      <div className="quick" aria-label="Quick replies">
        {quickReplies.map((q) => (
          <span key={q} className="chip" style={{ display: "inline-flex", gap: 4, alignItems: "center" }}>
            <button className="btn ghost sm" style={{ padding: 0, minHeight: 0 }} onClick={() => setText(q)} title={q}>{q.length > 32 ? `${q.slice(0, 30)}…` : q}</button>
            <button className="btn ghost sm" style={{ padding: "0 2px", minHeight: 0 }} aria-label={`Remove quick reply: ${q}`} onClick={() => setQuickReplies(quickReplies.filter((x) => x !== q))}>×</button>
          </span>
        ))}
        {text.trim() && !quickReplies.includes(text.trim()) ? (
          <button className="chip" onClick={() => setQuickReplies([...quickReplies, text.trim()].slice(-12))}>+ Save as quick reply</button>
        ) : null}
      </div>
      <div className="row" style={{ alignItems: "flex-end" }}>
        <Button variant="ghost" onClick={() => fileRef.current?.click()} busy={uploading} aria-label="Attach a file" title="Attach an image, video, audio or PDF"><Icon name="clip" /></Button>
        <input ref={fileRef} type="file" hidden accept="image/jpeg,image/png,video/mp4,audio/mpeg,audio/ogg,audio/aac,application/pdf" onChange={(e) => e.target.files?.[0] && upload(e.target.files[0])} />
        <textarea
          className="textarea grow"
          rows={2}
          placeholder="Write a reply…  (Enter sends, Shift+Enter for a new line)"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKey}
          maxLength={4096}
          aria-label="Reply"
          data-testid="composer-input"
        />
        <Button variant="primary" onClick={sendText} busy={fetching} disabled={!text.trim()} data-testid="composer-send">Send</Button>
      </div>
    </div>
  );
}

function TemplatePicker({ onSend, busy }: { onSend: (id: string, params: string[]) => Promise<boolean>; busy: boolean }) {
  const [{ data, error: queryError }] = useQuery<TemplatesData>({ query: ApprovedTemplatesQuery });
  const templates: Template[] | null = data ? (data.templates as Template[]) : null;
  const error = queryError ? queryError.message : null;
  const [selected, setSelected] = useState<string>("");
  const [params, setParams] = useState<string[]>([]);
  const template = useMemo(() => templates?.find((t) => t.id === selected) ?? null, [templates, selected]);
  const names = template ? templatePlaceholders(template.components) : [];
  return (
    <div className="composer" data-testid="template-picker">
      <div className="window-note" style={{ color: "var(--warn)" }}>
        <Icon name="clock" size={14} /> The 24-hour window is closed. WhatsApp only allows an approved template until the customer writes again.
      </div>
      {error ? <div className="form-error">{error}</div> : null}
      {templates && templates.length === 0 ? (
        <div className="muted small">No approved templates yet. An admin can create one under Templates.</div>
      ) : (
        <div className="col">
          <select className="select" value={selected} onChange={(e) => { setSelected(e.target.value); setParams([]); }} aria-label="Template">
            <option value="">{templates ? "Choose a template…" : "Loading templates…"}</option>
            {templates?.map((t) => (
              <option key={t.id} value={t.id}>{t.name} ({t.language})</option>
            ))}
          </select>
          {template ? (
            <>
              {names.map((n, i) => (
                <div key={n} className="row">
                  <span className="mono muted" style={{ width: 44 }}>{`{{${n}}}`}</span>
                  <input className="input" placeholder={`Parameter {{${n}}}`} aria-label={`Parameter ${n}`} value={params[i] ?? ""} onChange={(e) => { const next = [...params]; next[i] = e.target.value; setParams(next); }} />
                </div>
              ))}
              <div className="bubble human" style={{ maxWidth: "100%" }}>{renderTemplate(template.components, params)}</div>
              <div className="row">
                <span className="spacer" />
                <Button variant="primary" busy={busy} disabled={!parametersComplete(template.components, params)} onClick={async () => { if (await onSend(template.id, params)) { setSelected(""); setParams([]); } }}>
                  Send template
                </Button>
              </div>
            </>
          ) : null}
        </div>
      )}
    </div>
  );
}
