// Analytics for a date range in a timezone: the funnel with conversion rates, response times,
// handoff rate, AI vs human share, CTA conversion, follow-up effectiveness, and LLM tokens and
// cost over time.
import { useEffect, useMemo, useState } from "react";
import { useQuery } from "urql";
import { Bar, BarChart, CartesianGrid, Cell, ComposedChart, Legend, Line, LineChart, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Card, EmptyState, Skeleton } from "../../components/ui";
import { useToast } from "../../components/toast";
import type { AnalyticsPageQuery as AnalyticsData, AnalyticsPageQueryVariables } from "../../gql/generated";
import { lastDays, todayIn, rangeProblem, share } from "../../lib/analyticsRange";
import { integer, percent, seconds, titleCase, usd } from "../../lib/format";
import { useSession } from "../../lib/session";
import { AnalyticsPageQuery } from "./operations";

const PRESETS = [7, 30, 90];
const COLORS = ["#0f766e", "#14b8a6", "#2dd4bf", "#5eead4", "#99f6e4", "#ccfbf1", "#e6fffa"];

function timezones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? ["UTC"];
  } catch {
    return ["UTC"];
  }
}

function Kpi({ label, value, sub, testid }: { label: string; value: string; sub?: string; testid?: string }) {
  return (
    <Card className="kpi">
      <div className="label">{label}</div>
      <div className="value" data-testid={testid}>{value}</div>
      {sub ? <div className="sub">{sub}</div> : null}
    </Card>
  );
}

export default function AnalyticsPage() {
  const toast = useToast();
  const { viewer } = useSession();
  const [timezone, setTimezone] = useState<string>("");
  const zone = timezone || viewer?.organisation.timezone || null;
  const [preset, setPreset] = useState<number | null>(7);
  const [custom, setCustom] = useState(() => lastDays(7, todayIn(zone)));
  // A preset means "the last n days" where the figures are counted: derived from the zone on
  // every render, so no query ever goes out with the browser's "today" instead of the zone's.
  const range = preset ? lastDays(preset, todayIn(zone)) : custom;
  const zones = useMemo(timezones, []);
  const problem = rangeProblem(range.dateFrom, range.dateTo);
  const tz = timezone || null;
  const [{ data, fetching, error }] = useQuery<AnalyticsData, AnalyticsPageQueryVariables>({
    query: AnalyticsPageQuery,
    variables: { dateFrom: range.dateFrom, dateTo: range.dateTo, timezone: tz },
    // Until the viewer (and so the organisation's timezone) is known, "today" is not.
    pause: !!problem || !viewer,
    requestPolicy: "cache-and-network",
  });
  useEffect(() => {
    if (error) toast.error(`Could not load analytics: ${error.message}`);
  }, [error, toast]);

  const a = data?.analytics;
  const presetOn = (days: number) => preset === days;
  const shares = a ? [
    { name: "Bot", value: a.aiShare ?? 0 },
    { name: "People", value: a.humanShare ?? 0 },
  ] : [];
  const ctaRows = a ? [
    { step: "Offered", count: a.cta.offered, rate: null as number | null },
    { step: "Accepted", count: a.cta.accepted, rate: share(a.cta.accepted, a.cta.offered) },
    { step: "Completed", count: a.cta.completed, rate: share(a.cta.completed, a.cta.accepted) },
  ] : [];

  return (
    <div className="page">
      <div className="page-head" style={{ flexWrap: "wrap", gap: 8 }}>
        <h1 className="grow">Analytics</h1>
        <div className="chips" role="group" aria-label="Date range">
          {PRESETS.map((d) => <button key={d} className={`chip ${presetOn(d) ? "on" : ""}`} aria-pressed={presetOn(d)} onClick={() => setPreset(d)}>{d} days</button>)}
        </div>
        <label className="row small" style={{ gap: 4 }}>From<input className="input" type="date" value={range.dateFrom} onChange={(e) => { setPreset(null); setCustom({ ...range, dateFrom: e.target.value }); }} /></label>
        <label className="row small" style={{ gap: 4 }}>To<input className="input" type="date" value={range.dateTo} onChange={(e) => { setPreset(null); setCustom({ ...range, dateTo: e.target.value }); }} /></label>
        <select className="select" aria-label="Timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} style={{ maxWidth: 220 }}>
          <option value="">Organisation ({viewer?.organisation.timezone ?? "default"})</option>
          {zones.map((z) => <option key={z} value={z}>{z}</option>)}
        </select>
      </div>
      {problem ? <div className="form-error" role="alert" style={{ marginBottom: 12 }}>{problem}</div> : null}
      {a ? <div className="small muted" style={{ marginBottom: 8 }} data-testid="analytics-range">{a.range.dateFrom} to {a.range.dateTo} · {a.range.timezone}</div> : null}
      <div className="kpis">
        {a ? (
          <>
            <Kpi label="First response" value={seconds(a.responseTimes.p50Seconds)} sub={`median · p90 ${seconds(a.responseTimes.p90Seconds)}`} testid="analytics-response" />
            <Kpi label="Handoff rate" value={percent(a.handoffRate)} sub="conversations a person joined" />
            <Kpi label="Handled by the bot" value={percent(a.aiShare)} sub={`people ${percent(a.humanShare)}`} />
            <Kpi label="CTA conversion" value={percent(share(a.cta.completed, a.cta.offered))} sub={`${integer(a.cta.completed)} of ${integer(a.cta.offered)} offered`} />
            <Kpi label="Follow-up replies" value={percent(a.followups.replyRate)} sub={`${integer(a.followups.repliedWithin24h)} of ${integer(a.followups.sent)} within 24 h`} />
            <Kpi label="LLM cost" value={usd(a.llm.costUsd)} sub={`${integer(a.llm.inputTokens + a.llm.outputTokens)} tokens · ${integer(a.llm.runs)} runs`} />
          </>
        ) : Array.from({ length: 6 }, (_, i) => <Card key={i} className="kpi"><Skeleton width="50%" /><Skeleton width="40%" height={28} style={{ marginTop: 8 }} /></Card>)}
      </div>
      <div className="grid-2">
        <Card>
          <h2 style={{ marginBottom: 12 }}>Funnel by stage</h2>
          {!a ? <Skeleton height={240} /> : a.funnel.every((s) => s.reached === 0) ? <EmptyState icon="dashboard" title="No conversations in this range" /> : (
            <>
              <div style={{ width: "100%", height: 240 }} data-testid="analytics-funnel">
                <ResponsiveContainer>
                  <BarChart data={a.funnel.map((s) => ({ ...s, label: titleCase(s.stage) }))} layout="vertical" margin={{ left: 20, right: 30 }}>
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} />
                    <YAxis type="category" dataKey="label" width={100} />
                    <Tooltip />
                    <Bar dataKey="reached" name="Reached" radius={[0, 6, 6, 0]}>
                      {a.funnel.map((_, i) => <Cell key={i} fill={COLORS[i % COLORS.length]} />)}
                    </Bar>
                  </BarChart>
                </ResponsiveContainer>
              </div>
              <table className="table" style={{ marginTop: 8 }}>
                <thead><tr><th>Stage</th><th>Reached</th><th>From previous</th></tr></thead>
                <tbody>{a.funnel.map((s) => <tr key={s.stage}><td>{titleCase(s.stage)}</td><td>{integer(s.reached)}</td><td>{percent(s.conversionFromPrevious)}</td></tr>)}</tbody>
              </table>
            </>
          )}
        </Card>
        <div className="col" style={{ gap: 16, minWidth: 0 }}>
          <Card>
            <h2 style={{ marginBottom: 12 }}>Bot vs people</h2>
            {!a ? <Skeleton height={180} /> : (a.aiShare ?? 0) + (a.humanShare ?? 0) === 0 ? <EmptyState icon="bot" title="No messages in this range" /> : (
              <div style={{ width: "100%", height: 200 }}>
                <ResponsiveContainer>
                  <PieChart>
                    <Pie data={shares} dataKey="value" nameKey="name" isAnimationActive={false} innerRadius={50} outerRadius={80} label={(e: { name?: string; value?: number }) => `${e.name ?? ""} ${percent(e.value ?? 0)}`}>
                      <Cell fill="#0f766e" /><Cell fill="#6366f1" />
                    </Pie>
                    <Tooltip formatter={(v) => percent(Number(v))} />
                  </PieChart>
                </ResponsiveContainer>
              </div>
            )}
          </Card>
          <Card>
            <h2 style={{ marginBottom: 12 }}>CTA conversion</h2>
            {!a ? <Skeleton height={100} /> : (
              <table className="table">
                <thead><tr><th>Step</th><th>Conversations</th><th>From previous</th></tr></thead>
                <tbody>{ctaRows.map((r) => <tr key={r.step}><td>{r.step}</td><td>{integer(r.count)}</td><td>{r.rate === null ? "—" : percent(r.rate)}</td></tr>)}</tbody>
              </table>
            )}
          </Card>
        </div>
      </div>
      <div className="grid-2" style={{ marginTop: 16 }}>
        <Card>
          <h2 style={{ marginBottom: 12 }}>Messages per day</h2>
          {!a ? <Skeleton height={220} /> : (
            <div style={{ width: "100%", height: 220 }}>
              <ResponsiveContainer>
                <LineChart data={a.series} margin={{ right: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Legend />
                  <Line type="monotone" dataKey="inboundMessages" name="From customers" stroke="#0f766e" strokeWidth={2} dot={false} />
                  <Line type="monotone" dataKey="outboundMessages" name="Sent" stroke="#6366f1" strokeWidth={2} dot={false} />
                  <Line type="monotone" dataKey="newConversations" name="New conversations" stroke="#f59e0b" strokeWidth={2} dot={false} />
                </LineChart>
              </ResponsiveContainer>
            </div>
          )}
        </Card>
        <Card>
          <h2 style={{ marginBottom: 12 }}>LLM tokens and cost over time</h2>
          {!a ? <Skeleton height={220} /> : (
            <div style={{ width: "100%", height: 220 }} data-testid="analytics-usage">
              <ResponsiveContainer>
                <ComposedChart data={a.series} margin={{ right: 10 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
                  <YAxis yAxisId="tokens" allowDecimals={false} tickFormatter={(v: number) => integer(v)} />
                  <YAxis yAxisId="cost" orientation="right" tickFormatter={(v: number) => `$${v.toFixed(2)}`} />
                  <Tooltip formatter={(v, name) => (name === "Cost" ? usd(Number(v)) : integer(Number(v)))} />
                  <Legend />
                  <Bar yAxisId="tokens" dataKey="llmInputTokens" name="Input tokens" stackId="t" fill="#14b8a6" />
                  <Bar yAxisId="tokens" dataKey="llmOutputTokens" name="Output tokens" stackId="t" fill="#0f766e" />
                  <Line yAxisId="cost" type="monotone" dataKey="llmCostUsd" name="Cost" stroke="#f59e0b" strokeWidth={2} dot={false} />
                </ComposedChart>
              </ResponsiveContainer>
            </div>
          )}
        </Card>
      </div>
      {fetching && a ? <div className="small muted" style={{ marginTop: 8 }}>Updating…</div> : null}
    </div>
  );
}
