// What the pipeline did for one bot message: Eyes observed, knowledge was retrieved, Brain
// decided, policy may have overridden, Mouth wrote; with models, tokens and latency.
import { useQuery } from "urql";
import { Badge, Drawer, EmptyState, SkeletonLines } from "../../components/ui";
import { TraceQuery } from "../../gql/operations";
import type { TraceQuery as TraceData, TraceQueryVariables } from "../../gql/generated";
import { integer, titleCase, usd } from "../../lib/format";

type Trace = NonNullable<NonNullable<TraceData["message"]>["trace"]>;
type Step = Trace["steps"][number];

const ORDER = ["EYES", "RAG", "BRAIN", "POLICY", "MOUTH", "MEMORY"] as const;
const TITLES: Record<string, string> = {
  EYES: "Eyes · observation",
  RAG: "Knowledge used",
  BRAIN: "Brain · decision",
  POLICY: "Policy",
  MOUTH: "Mouth · reply",
  MEMORY: "Memory",
};

function Value({ value }: { value: unknown }) {
  if (value == null || value === "") return <span className="muted">—</span>;
  if (typeof value === "boolean") return <>{value ? "yes" : "no"}</>;
  if (typeof value === "number") return <>{value}</>;
  if (typeof value === "string") return <>{value}</>;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return <>{value.length ? value.join(", ") : "—"}</>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function Fields({ data, keys }: { data: Record<string, unknown>; keys: string[] }) {
  const present = keys.filter((k) => k in data);
  if (!present.length) return null;
  return (
    <dl className="kv">
      {present.map((k) => (
        <div key={k} style={{ display: "contents" }}>
          <dt>{titleCase(k)}</dt>
          <dd><Value value={data[k]} /></dd>
        </div>
      ))}
    </dl>
  );
}

function hasOverrides(step: Step): boolean {
  return step.overrides && typeof step.overrides === "object" && Object.keys(step.overrides).length > 0;
}

function StepBody({ step, knowledge }: { step: Step; knowledge: unknown }) {
  const out = (step.output ?? {}) as Record<string, unknown>;
  switch (step.stage) {
    case "EYES":
      return <Fields data={out} keys={["situation_summary", "intent", "intent_level", "sentiment", "language", "knowledge_needed", "search_query", "confidence", "risk_flags"]} />;
    case "RAG": {
      const chunks = (Array.isArray(knowledge) && knowledge.length ? knowledge : out.chunks) as Array<Record<string, unknown>> | undefined;
      return (
        <>
          <Fields data={out} keys={["query", "grounded", "threshold"]} />
          {chunks && chunks.length ? (
            <ol className="col" style={{ margin: 0, paddingLeft: 18 }}>
              {chunks.map((c, i) => (
                <li key={i}>
                  <div className="row small muted">
                    <span>{String(c.document_title ?? c.title ?? c.source ?? "Document")}</span>
                    {typeof c.score === "number" ? <Badge tone="brand">score {c.score.toFixed(2)}</Badge> : null}
                  </div>
                  <div>{String(c.text ?? c.content ?? "")}</div>
                </li>
              ))}
            </ol>
          ) : (
            <p className="muted" style={{ margin: 0 }}>No knowledge was used for this reply.</p>
          )}
        </>
      );
    }
    case "BRAIN":
      return <Fields data={out} keys={["action", "plan", "new_stage", "confidence", "needs_attention", "attention_reason", "cta_id", "template_purpose", "followup_delay_minutes"]} />;
    case "POLICY":
      return <Fields data={out} keys={["action", "compose_reply", "needs_attention", "attention_reason", "opt_out", "new_stage"]} />;
    case "MOUTH":
      return (
        <>
          {typeof out.text === "string" ? <div className="bubble bot" style={{ maxWidth: "100%" }}>{out.text}</div> : null}
          <Fields data={out} keys={["kind", "language", "buttons", "cta_url", "self_check"]} />
        </>
      );
    default:
      return <Value value={out} />;
  }
}

/** The trace of one bot message: the drawer's content, also shown beside the simulator's phone. */
export function TraceView({ messageId }: { messageId: string }) {
  const [{ data, fetching, error }] = useQuery<TraceData, TraceQueryVariables>({ query: TraceQuery, variables: { id: messageId } });
  const trace = data?.message?.trace ?? null;
  const steps = trace ? [...trace.steps].sort((a, b) => ORDER.indexOf(a.stage) - ORDER.indexOf(b.stage) || a.attempt - b.attempt) : [];
  const overrides = steps.filter(hasOverrides);
  if (fetching && !data) return <SkeletonLines lines={8} />;
  if (error) return <EmptyState icon="alert" title="Could not load the trace">{error.message}</EmptyState>;
  if (!trace) return <EmptyState icon="search" title="No trace for this message">It was not written by a pipeline run.</EmptyState>;
  return (
    <div className="col" style={{ gap: 12 }} data-testid="trace-view">
          <div className="row" style={{ flexWrap: "wrap" }} data-testid="trace-summary">
            <Badge tone={trace.status === "SUCCEEDED" ? "ok" : trace.status === "FAILED" ? "danger" : undefined}>{titleCase(trace.status)}</Badge>
            <Badge tone={trace.isOffline ? "warn" : "info"}>{trace.isOffline && trace.provider !== "offline" ? `${trace.provider} (offline)` : trace.provider}</Badge>
            <span className="small muted">{trace.latencyMs != null ? `${integer(trace.latencyMs)} ms` : ""}</span>
            <span className="small muted">{integer(trace.inputTokens)} in / {integer(trace.outputTokens)} out tokens</span>
            <span className="small muted">{usd(trace.costUsd)}</span>
          </div>
          {trace.error ? <div className="form-error">{trace.error}</div> : null}
          {overrides.length ? (
            <div className="form-error" style={{ background: "var(--warn-soft)", color: "var(--warn)" }} data-testid="trace-overrides">
              <strong>Policy overrides</strong>
              {overrides.map((s) => (
                <div key={`${s.stage}-${s.attempt}`} className="small">{TITLES[s.stage]}: <Value value={s.overrides} /></div>
              ))}
            </div>
          ) : null}
          {steps.map((step) => (
            <section key={`${step.stage}-${step.attempt}`} className="stage" data-testid={`trace-stage-${step.stage.toLowerCase()}`}>
              <div className="stage-head">
                <h3 className="grow">{TITLES[step.stage] ?? step.stage}{step.attempt > 1 ? ` (attempt ${step.attempt})` : ""}</h3>
                {step.model ? <span className="small muted mono">{step.model}</span> : null}
                <span className="small muted">{step.latencyMs ?? 0} ms</span>
                {step.inputTokens || step.outputTokens ? <span className="small muted">{step.inputTokens}/{step.outputTokens} tok</span> : null}
              </div>
              <div className="stage-body">
                {step.error ? <div className="form-error">{step.error}</div> : null}
                <StepBody step={step} knowledge={trace.knowledgeUsed} />
                {hasOverrides(step) ? <div className="small"><Badge tone="warn">Overridden</Badge> <Value value={step.overrides} /></div> : null}
              </div>
            </section>
          ))}
          <details>
            <summary className="small muted">Raw decision</summary>
            <pre className="json">{JSON.stringify(trace.decision, null, 2)}</pre>
          </details>
    </div>
  );
}

export function TraceDrawer({ messageId, onClose }: { messageId: string; onClose: () => void }) {
  return (
    <Drawer title="Why the bot said this" onClose={onClose} label="Trace">
      <TraceView messageId={messageId} />
    </Drawer>
  );
}
