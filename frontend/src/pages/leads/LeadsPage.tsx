// Leads: a server-paginated (keyset) table with filters and search, CSV export (REST, streamed),
// and a detail drawer (conversations, tags, notes, opt-out, GDPR erase).
import { useEffect, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { useQuery, useSubscription } from "urql";
import { Badge, Button, Card, EmptyState, Skeleton } from "../../components/ui";
import { Icon } from "../../components/icons";
import { useToast } from "../../components/toast";
import type { LeadFilter, LeadsQuery as LeadsData, LeadsQueryVariables } from "../../gql/generated";
import { authedFetch, errorMessage } from "../../lib/auth";
import { leadName, relativeTime, titleCase } from "../../lib/format";
import { activeCount, EMPTY_FILTERS, filenameFrom, toExportQuery, toGraphQL, type LeadFilterState } from "../../lib/leadFilters";
import { useSession } from "../../lib/session";
import { LeadDetail } from "./LeadDetail";
import { LeadsLiveSubscription, LeadsQuery } from "./operations";
import { useDebounced } from "../../lib/live";
import "./leads.css";

const PAGE_SIZE = 25;
export const STAGES = ["GREETING", "QUALIFICATION", "PRICING", "CTA", "CLOSED", "LOST", "GHOSTED"];
const INTENTS = ["LOW", "MEDIUM", "HIGH", "VERY_HIGH", "UNKNOWN"];
const SENTIMENTS = ["ANNOYED", "DISTRUSTFUL", "CONFUSED", "CURIOUS", "DISAPPOINTED", "NEUTRAL", "UNINTERESTED", "POSITIVE"];

export function intentTone(level: string): "ok" | "warn" | "info" | undefined {
  return level === "VERY_HIGH" || level === "HIGH" ? "ok" : level === "MEDIUM" ? "info" : undefined;
}

function Select({ label, value, options, onChange }: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <label className="field">{label}
      <select className="select" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Any</option>
        {options.map((o) => <option key={o} value={o}>{titleCase(o)}</option>)}
      </select>
    </label>
  );
}

export default function LeadsPage() {
  const params = useParams();
  const selectedId = params["*"] || null;
  const navigate = useNavigate();
  const toast = useToast();
  const { can } = useSession();
  const [filters, setFilters] = useState<LeadFilterState>(EMPTY_FILTERS);
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  // Keyset pages: the cursors that opened each page visited so far (null = the first page).
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [exporting, setExporting] = useState(false);

  useEffect(() => {
    const id = window.setTimeout(() => setFilters((f) => (f.search === search && f.tag === tag ? f : { ...f, search, tag })), 300);
    return () => window.clearTimeout(id);
  }, [search, tag]);
  const filter = useMemo(() => toGraphQL(filters) as LeadFilter, [filters]);
  useEffect(() => setCursors([null]), [filter]);
  const after = cursors[cursors.length - 1] ?? null;

  const [{ data, fetching, error }, refetch] = useQuery<LeadsData, LeadsQueryVariables>({
    query: LeadsQuery,
    variables: { first: PAGE_SIZE, after, filter },
    requestPolicy: "cache-and-network",
  });
  useEffect(() => {
    if (error) toast.error(`Could not load leads: ${error.message}`);
  }, [error, toast]);
  // New messages are refetch hints: the first page picks up new leads and fresh activity.
  const onFirstPage = cursors.length === 1;
  const reloadLive = useDebounced(() => {
    if (onFirstPage) refetch({ requestPolicy: "network-only" });
  }, 1500);
  useSubscription({ query: LeadsLiveSubscription }, (_, e) => (reloadLive(), e));
  const rows = data?.leads.edges.map((e) => e.node) ?? [];
  const set = (patch: Partial<LeadFilterState>) => setFilters((f) => ({ ...f, ...patch }));

  async function exportCsv() {
    setExporting(true);
    try {
      const response = await authedFetch(`/leads/export.csv${toExportQuery(filters)}`);
      if (!response.ok) {
        let body: unknown = null;
        try { body = await response.json(); } catch { /* not JSON */ }
        throw new Error(errorMessage(body, `HTTP ${response.status}`));
      }
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = filenameFrom(response.headers.get("Content-Disposition"), "leads.csv");
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 1000);
      toast.success("Export downloaded.");
    } catch (e) {
      toast.error(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setExporting(false);
    }
  }

  return (
    <div className="page leads-page">
      <div className="page-head">
        <h1 className="grow">Leads</h1>
        <div className="leads-search">
          <Icon name="search" />
          <input className="input" type="search" placeholder="Name, number or email" aria-label="Search leads" value={search} onChange={(e) => setSearch(e.target.value)} data-testid="leads-search" />
        </div>
        {can("ADMIN") ? <Button onClick={exportCsv} busy={exporting} data-testid="leads-export">Export CSV</Button> : null}
      </div>
      <Card className="leads-filters">
        <Select label="Stage" value={filters.stage} options={STAGES} onChange={(stage) => set({ stage })} />
        <Select label="Intent" value={filters.intentLevel} options={INTENTS} onChange={(intentLevel) => set({ intentLevel })} />
        <Select label="Sentiment" value={filters.sentiment} options={SENTIMENTS} onChange={(sentiment) => set({ sentiment })} />
        <label className="field">Tag
          <input className="input" value={tag} onChange={(e) => setTag(e.target.value)} placeholder="any" />
        </label>
        <label className="field">Opted out
          <select className="select" value={filters.optedOut} onChange={(e) => set({ optedOut: e.target.value as LeadFilterState["optedOut"] })}>
            <option value="">Any</option><option value="yes">Yes</option><option value="no">No</option>
          </select>
        </label>
        <label className="field">Created from
          <input className="input" type="date" value={filters.createdFrom} onChange={(e) => set({ createdFrom: e.target.value })} />
        </label>
        <label className="field">Created to
          <input className="input" type="date" value={filters.createdTo} onChange={(e) => set({ createdTo: e.target.value })} />
        </label>
        {activeCount(filters) ? <Button variant="ghost" size="sm" onClick={() => { setSearch(""); setTag(""); setFilters(EMPTY_FILTERS); }}>Clear filters</Button> : null}
      </Card>
      <Card pad={false}>
        {fetching && !data ? (
          <div className="card-pad col">{Array.from({ length: 6 }, (_, i) => <Skeleton key={i} height={28} />)}</div>
        ) : error && !data ? (
          <EmptyState icon="alert" title="Could not load leads">
            {error.message} <Button size="sm" onClick={() => refetch({ requestPolicy: "network-only" })}>Retry</Button>
          </EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState icon="user" title={activeCount(filters) ? "No lead matches these filters" : "No leads yet"}>
            {activeCount(filters) ? "Change or clear the filters." : "Customers who message your WhatsApp number appear here."}
          </EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table" data-testid="leads-table">
              <thead>
                <tr><th>Lead</th><th>Stage</th><th>Intent</th><th className="hide-phone">Sentiment</th><th className="hide-phone">Tags</th><th>Last message</th></tr>
              </thead>
              <tbody>
                {rows.map((l) => (
                  <tr key={l.id} className="link" data-testid="lead-row" tabIndex={0} onClick={() => navigate(`/leads/${l.id}`)} onKeyDown={(e) => { if (e.key === "Enter") navigate(`/leads/${l.id}`); }}>
                    <td>
                      <strong>{leadName(l)}</strong>
                      <div className="small muted">{l.waId ? `+${l.waId}` : ""}{l.email ? ` · ${l.email}` : ""}</div>
                    </td>
                    <td>{titleCase(l.stage)}</td>
                    <td><Badge tone={intentTone(l.intentLevel)}>{titleCase(l.intentLevel)}</Badge></td>
                    <td className="hide-phone">{titleCase(l.sentiment)}</td>
                    <td className="hide-phone">
                      <div className="row wrap">{l.tags.map((t) => <Badge key={t}>{t}</Badge>)}{l.optedOut ? <Badge tone="danger">Opted out</Badge> : null}</div>
                    </td>
                    <td className="small muted">{relativeTime(l.lastInboundAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div className="row card-pad pager">
          <span className="grow small muted">Page {cursors.length}{fetching && data ? " · loading…" : ""}</span>
          <Button size="sm" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous</Button>
          <Button size="sm" disabled={!data?.leads.pageInfo.hasNextPage} onClick={() => setCursors((c) => [...c, data!.leads.pageInfo.endCursor])} data-testid="leads-next">Next</Button>
        </div>
      </Card>
      {selectedId ? (
        <LeadDetail
          id={selectedId}
          onClose={() => navigate("/leads")}
          onErased={() => { navigate("/leads"); refetch({ requestPolicy: "network-only" }); }}
        />
      ) : null}
    </div>
  );
}
