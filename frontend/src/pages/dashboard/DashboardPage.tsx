// KPIs for a date range, the funnel by stage (both from GraphQL `dashboard` and `analytics`) and
// the live attention queue (refreshed by the attentionQueueChanged subscription).
import { useMemo, useState } from "react";
import { useNavigate } from "react-router-dom";
import { useQuery, useSubscription } from "urql";
import { Bar, BarChart, CartesianGrid, Cell, Line, LineChart, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Badge, Card, EmptyState, Skeleton } from "../../components/ui";
import { AttentionSubscription, DashboardQuery, InboxQuery } from "../../gql/operations";
import type { DashboardQuery as DashboardData, DashboardQueryVariables, InboxQuery as InboxData, InboxQueryVariables } from "../../gql/generated";
import { integer, leadName, percent, relativeTime, seconds, titleCase, usd } from "../../lib/format";
import { useDebounced } from "../../lib/live";
const RANGES = [
  { days: 1, label: "Today" },
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
];
const FUNNEL_COLORS = ["#0f766e", "#14b8a6", "#2dd4bf", "#5eead4", "#99f6e4", "#ccfbf1"];

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
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

function AttentionQueue() {
  const navigate = useNavigate();
  const [{ data, fetching, error }, refetch] = useQuery<InboxData, InboxQueryVariables>({
    query: InboxQuery,
    variables: { first: 20, filter: { needsAttention: true } },
  });
  const reload = useDebounced(() => refetch({ requestPolicy: "network-only" }), 300);
  useSubscription({ query: AttentionSubscription }, (_, e) => (reload(), e));
  const rows = data?.conversations.edges.map((e) => e.node) ?? [];
  return (
    <Card pad={false}>
      <div className="row card-pad" style={{ paddingBottom: 8 }}>
        <h2 className="grow">Attention queue</h2>
        <Badge tone={rows.length ? "warn" : "ok"}>{rows.length}{data?.conversations.pageInfo.hasNextPage ? "+" : ""}</Badge>
      </div>
      {fetching && !data ? (
        <div className="card-pad"><Skeleton height={120} /></div>
      ) : error ? (
        <EmptyState icon="alert" title="Could not load the queue">{error.message}</EmptyState>
      ) : rows.length === 0 ? (
        <EmptyState icon="check" title="Nobody is waiting">Conversations the bot hands over appear here.</EmptyState>
      ) : (
        <table className="table" data-testid="attention-queue">
          <thead><tr><th>Customer</th><th>Reason</th><th>Waiting</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} className="link" onClick={() => navigate(`/inbox/${r.id}`)}>
                <td><strong>{leadName(r.lead)}</strong><div className="small muted">{titleCase(r.stage)}</div></td>
                <td className="small">{r.attentionReason ?? "—"}</td>
                <td className="small muted">{relativeTime(r.attentionRaisedAt ?? r.lastMessageAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  const [days, setDays] = useState(7);
  const variables = useMemo(() => {
    const to = new Date();
    const from = new Date(to.getTime() - (days - 1) * 86_400_000);
    return { dateFrom: isoDay(from), dateTo: isoDay(to) };
  }, [days]);
  const [{ data, error: queryError }, refetch] = useQuery<DashboardData, DashboardQueryVariables>({ query: DashboardQuery, variables });
  const fresh = data && !queryError ? data : null;
  const dashboard = fresh?.dashboard ?? null;
  const analytics = fresh?.analytics ?? null;
  const error = queryError ? queryError.message.replace(/^\[\w+\]\s*/, "") : null;
  const reload = useDebounced(() => refetch({ requestPolicy: "network-only" }), 2000);
  useSubscription({ query: AttentionSubscription }, (_, e) => (reload(), e));
  const byAuthor = Object.fromEntries((dashboard?.messagesByAuthor ?? []).map((m) => [m.author.toLowerCase(), m.count]));

  const messages = Object.values(byAuthor).reduce((a, b) => a + b, 0);
  return (
    <div className="page">
      <div className="page-head">
        <h1 className="grow">Dashboard</h1>
        <div className="chips" role="group" aria-label="Date range">
          {RANGES.map((r) => (
            <button key={r.days} className={`chip ${days === r.days ? "on" : ""}`} aria-pressed={days === r.days} onClick={() => setDays(r.days)}>{r.label}</button>
          ))}
        </div>
      </div>
      {error ? <div className="form-error" style={{ marginBottom: 12 }}>Could not load the figures: {error}</div> : null}
      <div className="kpis">
        {dashboard ? (
          <>
            <Kpi label="Conversations" value={integer(dashboard.conversations)} sub="started in the range" testid="kpi-conversations" />
            <Kpi label="Active leads" value={integer(dashboard.activeLeads)} sub={`${integer(dashboard.highIntentLeads)} high intent`} />
            <Kpi label="Messages" value={integer(messages)} sub={`${integer(byAuthor.bot ?? 0)} by the bot · ${integer(byAuthor.human ?? 0)} by people`} />
            <Kpi label="First response" value={seconds(dashboard.medianFirstResponseSeconds)} sub="median" />
            <Kpi label="Handled by AI" value={percent(dashboard.aiHandledShare)} sub={`handoff rate ${percent(analytics?.handoffRate ?? null)}`} />
            <Kpi label="Waiting for a person" value={integer(dashboard.attention.count)} sub={dashboard.attention.oldestRaisedAt ? `oldest ${relativeTime(dashboard.attention.oldestRaisedAt)}` : "queue empty"} />
            {analytics ? <Kpi label="LLM cost" value={usd(analytics.llm.costUsd)} sub={`${integer(analytics.llm.inputTokens + analytics.llm.outputTokens)} tokens · ${integer(analytics.llm.runs)} runs`} /> : null}
          </>
        ) : (
          Array.from({ length: 6 }, (_, i) => <Card key={i} className="kpi"><Skeleton width="50%" /><Skeleton width="40%" height={28} style={{ marginTop: 8 }} /></Card>)
        )}
      </div>
      <div className="grid-2">
        <div className="col" style={{ gap: 16, minWidth: 0 }}>
          <Card>
            <h2 style={{ marginBottom: 12 }}>Funnel by stage</h2>
            {!analytics ? <Skeleton height={220} /> : analytics.funnel.every((s) => s.reached === 0) ? (
              <EmptyState icon="dashboard" title="No conversations in this range" />
            ) : (
              <div style={{ width: "100%", height: 240 }} data-testid="funnel-chart">
                <ResponsiveContainer>
                  <BarChart data={analytics.funnel.map((s) => ({ ...s, label: titleCase(s.stage) }))} layout="vertical" margin={{ left: 20, right: 30 }}>
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} />
                    <YAxis type="category" dataKey="label" width={100} />
                    <Tooltip formatter={(v, _n, p) => [`${String(v)} (${percent((p.payload as { conversionFromPrevious: number | null }).conversionFromPrevious)} of previous)`, "Reached"]} />
                    <Bar dataKey="reached" radius={[0, 6, 6, 0]}>
                      {analytics.funnel.map((_, i) => <Cell key={i} fill={FUNNEL_COLORS[i % FUNNEL_COLORS.length]} />)}
                    </Bar>
                  </BarChart>
                </ResponsiveContainer>
              </div>
            )}
          </Card>
          <Card>
            <h2 style={{ marginBottom: 12 }}>Messages per day</h2>
            {!analytics ? <Skeleton height={200} /> : (
              <div style={{ width: "100%", height: 220 }}>
                <ResponsiveContainer>
                  <LineChart data={analytics.series} margin={{ right: 20 }}>
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
        </div>
        <AttentionQueue />
      </div>
    </div>
  );
}
