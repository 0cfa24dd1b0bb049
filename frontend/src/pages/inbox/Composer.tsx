// The reply box. Inside the 24-hour window: free text, the organisation's quick replies (typing
// "/" opens a filterable picker) and media. Outside it: only an approved template, with its
// parameters and a preview. Read-only for viewers.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Button } from "../../components/ui";
import { Icon } from "../../components/icons";
import { useToast } from "../../components/toast";
import { ApprovedTemplatesQuery, QuickRepliesQuery, SendMessageMutation } from "../../gql/operations";
import type {
  ApprovedTemplatesQuery as TemplatesData, QuickRepliesQuery as QuickRepliesData, SendMessageMutation as SendData,
  SendMessageMutationVariables,
} from "../../gql/generated";
import { authedFetch, errorMessage } from "../../lib/auth";
import { duration } from "../../lib/format";
import { insertQuickReply, matchQuickReplies, slashToken, type QuickReply, type SlashToken } from "../../lib/quickReplies";
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

/** How many quick replies show as chips above the box; the "/" picker has them all. */
const CHIPS = 6;

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
  const [{ data: quickData }] = useQuery<QuickRepliesData>({ query: QuickRepliesQuery, requestPolicy: "cache-and-network" });
  const quickReplies: QuickReply[] = quickData?.quickReplies ?? [];
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState(0);
  const [highlight, setHighlight] = useState(0);
  // The slash the picker was closed for (Escape), so it stays closed while that token is typed.
  const [dismissed, setDismissed] = useState<number | null>(null);
  const token: SlashToken | null = slashToken(text, caret);
  const matches = token ? matchQuickReplies(quickReplies, token.query) : [];
  const pickerOpen = token !== null && token.start !== dismissed && quickReplies.length > 0;
  useEffect(() => setHighlight(0), [token?.start, token?.query]);
  const hasToken = token !== null;
  useEffect(() => {
    if (!hasToken) setDismissed(null);
  }, [hasToken]);
  const [{ fetching }, send] = useMutation<SendData, SendMessageMutationVariables>(SendMessageMutation);
  const [uploading, setUploading] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const key = useRef(newKey());
  useEffect(() => setText(""), [props.conversationId]);
  // Where the caret goes once an inserted quick reply is in the box. Placed in a layout effect,
  // in the same task as the key that chose the reply: placed later (a frame later, say), it
  // would jump back over whatever was typed meanwhile.
  const [placeCaret, setPlaceCaret] = useState<number | null>(null);
  useLayoutEffect(() => {
    if (placeCaret === null) return;
    const el = inputRef.current;
    el?.focus();
    el?.setSelectionRange(placeCaret, placeCaret);
    setPlaceCaret(null);
  }, [placeCaret]);

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

  function applyReply(reply: QuickReply, at: SlashToken | null) {
    const el = inputRef.current;
    const position = el?.selectionStart ?? text.length;
    const next = at ? insertQuickReply(text, position, at, reply.text) : { value: reply.text, caret: reply.text.length };
    setText(next.value);
    setCaret(next.caret);
    setDismissed(null);
    setPlaceCaret(next.caret);
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (pickerOpen && !e.nativeEvent.isComposing) {
      if (e.key === "Escape") {
        e.preventDefault();
        setDismissed(token!.start);
        return;
      }
      if (matches.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        const step = e.key === "ArrowDown" ? 1 : -1;
        setHighlight((h) => (h + step + matches.length) % matches.length);
        return;
      }
      if (matches.length && (e.key === "Enter" || e.key === "Tab") && !e.shiftKey) {
        e.preventDefault();
        applyReply(matches[Math.min(highlight, matches.length - 1)]!, token);
        return;
      }
    }
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
      {quickReplies.length ? (
        <div className="quick" aria-label="Quick replies">
          {quickReplies.slice(0, CHIPS).map((q) => (
            <button key={q.id} className="chip" onClick={() => applyReply(q, null)} title={q.text}>{q.title}</button>
          ))}
          <span className="small muted">Type <kbd>/</kbd> for {quickReplies.length > CHIPS ? `all ${quickReplies.length}` : "the list"}</span>
        </div>
      ) : null}
      {pickerOpen ? (
        <div className="quick-picker" role="listbox" id="quick-reply-picker" aria-label="Quick replies" data-testid="quick-reply-picker">
          {matches.length === 0 ? (
            <div className="small muted quick-empty">No quick reply matches “{token!.query}”.</div>
          ) : (
            matches.map((q, i) => (
              <div
                key={q.id}
                id={`quick-reply-${q.id}`}
                role="option"
                aria-selected={i === highlight}
                className={`quick-option ${i === highlight ? "on" : ""}`}
                data-testid="quick-reply-option"
                // mousedown, not click: the textarea keeps its focus and caret.
                onMouseDown={(e) => { e.preventDefault(); applyReply(q, token); }}
                onMouseEnter={() => setHighlight(i)}
              >
                <strong>{q.title}</strong>
                <span className="small muted ellipsis">{q.text}</span>
              </div>
            ))
          )}
        </div>
      ) : null}
      <div className="row" style={{ alignItems: "flex-end" }}>
        <Button variant="ghost" onClick={() => fileRef.current?.click()} busy={uploading} aria-label="Attach a file" title="Attach an image, video, audio or PDF"><Icon name="clip" /></Button>
        <input ref={fileRef} type="file" hidden accept="image/jpeg,image/png,video/mp4,audio/mpeg,audio/ogg,audio/aac,application/pdf" onChange={(e) => e.target.files?.[0] && upload(e.target.files[0])} />
        <textarea
          ref={inputRef}
          className="textarea grow"
          rows={2}
          placeholder="Write a reply…  (Enter sends, Shift+Enter for a new line, / for quick replies)"
          value={text}
          onChange={(e) => { setText(e.target.value); setCaret(e.target.selectionStart); }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKey}
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={pickerOpen}
          aria-controls={pickerOpen ? "quick-reply-picker" : undefined}
          aria-activedescendant={pickerOpen && matches[highlight] ? `quick-reply-${matches[highlight]!.id}` : undefined}
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
