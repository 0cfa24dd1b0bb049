// "Try it": chat as a customer and watch what the bot would do, turn by turn. Each turn runs
// Eyes, knowledge retrieval, Brain, policy and Mouth for the organisation (POST /debug/dry-run):
// nothing is stored and nothing is sent, so it is safe before a real number is connected.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Badge, Button, Card, EmptyState } from "../../components/ui";
import { Icon } from "../../components/icons";
import { useToast } from "../../components/toast";
import { ApiError, api } from "../../lib/auth";
import { clockTime, integer, titleCase } from "../../lib/format";

interface Step {
  stage: string;
  model: string;
  prompt_version: string;
  latency_ms: number;
  input_tokens: number;
  output_tokens: number;
  output: Record<string, unknown>;
  error: string | null;
  attempt: number;
}
interface DryRun {
  provider: string;
  is_offline: boolean;
  decision: Record<string, unknown>;
  replies: Array<{ kind: string; message_type: string; preview: string; message: Record<string, unknown> }>;
  update: Record<string, unknown>;
  steps: Step[];
  error: string | null;
}
interface Turn { id: number; author: "LEAD" | "BOT"; text: string; at: string; run?: DryRun }

const STAGE_ORDER = ["eyes", "rag", "brain", "policy", "mouth", "memory"];
const STAGE_TITLE: Record<string, string> = { eyes: "Eyes", rag: "Knowledge", brain: "Brain", policy: "Policy", mouth: "Mouth", memory: "Memory" };

function summary(step: Step): string {
  const o = step.output ?? {};
  switch (step.stage.toLowerCase()) {
    case "eyes":
      return [o.intent, o.intent_level && `intent ${o.intent_level}`, o.sentiment, o.situation_summary].filter(Boolean).join(" · ");
    case "rag": {
      const chunks = Array.isArray(o.chunks) ? o.chunks.length : 0;
      return `${chunks} chunk${chunks === 1 ? "" : "s"}${o.grounded ? " · grounded" : " · not grounded"}`;
    }
    case "brain":
      return [o.action, o.plan].filter(Boolean).join(" · ");
    case "policy":
      return [o.action, o.needs_attention ? `attention: ${o.attention_reason ?? "yes"}` : null].filter(Boolean).join(" · ");
    case "mouth":
      return typeof o.text === "string" ? o.text : String(o.kind ?? "");
    default:
      return "";
  }
}

function TurnTrace({ run }: { run: DryRun }) {
  const steps = [...run.steps].sort((a, b) => STAGE_ORDER.indexOf(a.stage.toLowerCase()) - STAGE_ORDER.indexOf(b.stage.toLowerCase()));
  const tokens = steps.reduce((n, s) => n + s.input_tokens + s.output_tokens, 0);
  const latency = steps.reduce((n, s) => n + s.latency_ms, 0);
  return (
    <div className="col" data-testid="sim-trace">
      <div className="row small" style={{ flexWrap: "wrap" }}>
        <Badge tone={run.is_offline ? "warn" : "info"}>{run.is_offline && run.provider !== "offline" ? `${run.provider} (offline)` : run.provider}</Badge>
        <span className="muted">{integer(Math.round(latency))} ms · {integer(tokens)} tokens</span>
        {run.update.stage ? <Badge tone="brand">stage → {titleCase(String(run.update.stage))}</Badge> : null}
        {run.decision.needs_attention ? <Badge tone="warn">hands over to a person</Badge> : null}
      </div>
      {run.error ? <div className="form-error">{run.error}</div> : null}
      {steps.map((s) => (
        <details key={`${s.stage}-${s.attempt}`} className="stage" data-testid={`sim-stage-${s.stage.toLowerCase()}`}>
          <summary className="stage-head" style={{ cursor: "pointer", listStyle: "none" }}>
            <strong style={{ width: 78 }}>{STAGE_TITLE[s.stage.toLowerCase()] ?? s.stage}</strong>
            <span className="grow ellipsis small">{summary(s) || <span className="muted">—</span>}</span>
            <span className="small muted">{Math.round(s.latency_ms)} ms</span>
          </summary>
          <div className="stage-body">
            <div className="small muted mono">{s.model} · prompt {s.prompt_version} · {s.input_tokens}/{s.output_tokens} tokens</div>
            {s.error ? <div className="form-error">{s.error}</div> : null}
            <pre className="json">{JSON.stringify(s.output, null, 2)}</pre>
          </div>
        </details>
      ))}
    </div>
  );
}

export default function SimulatorPage() {
  const toast = useToast();
  const [turns, setTurns] = useState<Turn[]>([]);
  const [text, setText] = useState("");
  const [name, setName] = useState("Asha");
  const [stage, setStage] = useState("GREETING");
  const [busy, setBusy] = useState(false);
  const [selected, setSelected] = useState<number | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const bodyRef = useRef<HTMLDivElement>(null);
  const nextId = useRef(1);
  useEffect(() => {
    bodyRef.current?.scrollTo({ top: bodyRef.current.scrollHeight });
  }, [turns.length, busy]);

  async function send(e: FormEvent) {
    e.preventDefault();
    const message = text.trim();
    if (!message || busy) return;
    const history = turns.slice(-20).map((t) => ({ author: t.author, text: t.text }));
    const customer: Turn = { id: nextId.current++, author: "LEAD", text: message, at: new Date().toISOString() };
    setTurns((t) => [...t, customer]);
    setText("");
    setBusy(true);
    try {
      const run = await api<DryRun>("/debug/dry-run", {
        method: "POST",
        json: { text: message, history, stage: stage.toLowerCase(), lead_name: name || null },
      });
      const replies = run.replies.length ? run.replies : [{ preview: "", kind: "none", message_type: "none", message: {} }];
      const botTurns: Turn[] = replies
        .filter((r) => r.preview)
        .map((r) => ({ id: nextId.current++, author: "BOT", text: r.preview, at: new Date().toISOString(), run }));
      if (!botTurns.length) botTurns.push({ id: nextId.current++, author: "BOT", text: "(the bot stays silent this turn)", at: new Date().toISOString(), run });
      setTurns((t) => [...t, ...botTurns]);
      setSelected(botTurns[0]!.id);
      if (typeof run.update.stage === "string") setStage(run.update.stage.toUpperCase());
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setUnavailable("The simulator is switched off in production.");
      else toast.error(err instanceof Error ? err.message : "The simulator did not answer.");
    } finally {
      setBusy(false);
    }
  }

  const current = turns.find((t) => t.id === selected)?.run ?? null;
  return (
    <div className="page">
      <div className="page-head">
        <h1 className="grow">Try it</h1>
        <label className="row small">Customer name <input className="input" style={{ width: 140 }} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <Button onClick={() => { setTurns([]); setSelected(null); setStage("GREETING"); }} disabled={!turns.length}>Start over</Button>
      </div>
      <p className="muted" style={{ marginTop: -6 }}>
        Chat as a customer. Every turn runs your bot (persona, knowledge base, rules) without storing or sending anything.
      </p>
      {unavailable ? <div className="form-error">{unavailable}</div> : null}
      <div className="sim">
        <div className="phone" aria-label="Phone">
          <div className="phone-screen">
            <div className="phone-head">
              <span className="avatar" style={{ background: "#fff" }}>F</span>
              <div className="col" style={{ gap: 0 }}>
                <strong>Your business</strong>
                <span className="small" style={{ opacity: 0.8 }}>{busy ? "typing…" : `stage: ${titleCase(stage)}`}</span>
              </div>
            </div>
            <div className="phone-body" ref={bodyRef} data-testid="sim-messages">
              {turns.length === 0 ? <div className="day-sep">Say hello to start</div> : null}
              {turns.map((t) => (
                <div key={t.id} className={`bubble-row ${t.author === "LEAD" ? "out" : ""}`}>
                  <div
                    className={`bubble ${t.author === "BOT" ? "" : ""}`}
                    data-testid={t.author === "BOT" ? "sim-bot" : "sim-customer"}
                    onClick={() => t.run && setSelected(t.id)}
                    style={{ cursor: t.run ? "pointer" : undefined, outline: t.id === selected ? "2px solid #00a884" : undefined }}
                  >
                    {t.text}
                    <div className="bubble-meta">{clockTime(t.at)}</div>
                  </div>
                </div>
              ))}
              {busy ? <div className="typing">The bot is thinking…</div> : null}
            </div>
            <form className="phone-input" onSubmit={send}>
              <input value={text} onChange={(e) => setText(e.target.value)} placeholder="Message" aria-label="Customer message" data-testid="sim-input" maxLength={4096} />
              <button type="submit" aria-label="Send" disabled={busy || !text.trim()} data-testid="sim-send"><Icon name="send" /></button>
            </form>
          </div>
        </div>
        <Card>
          <h2 style={{ marginBottom: 10 }}>What happened this turn</h2>
          {current ? <TurnTrace run={current} /> : <EmptyState icon="activity" title="No turn yet">Send a message; each stage's output appears here. Tap a bot bubble to see its turn.</EmptyState>}
        </Card>
      </div>
    </div>
  );
}
