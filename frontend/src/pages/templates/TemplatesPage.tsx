// Templates: the list with Meta's status, sync, submit, resubmit and delete; the builder (with
// Meta's limits checked as one types and a live preview) for new, draft and rejected ones.
// Statuses follow Meta's review live (templateStatusChanged), without a reload.
import { useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { useMutation, useQuery, useSubscription } from "urql";
import { Badge, Button, Card, EmptyState, Modal, Skeleton } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  DeleteTemplateMutation as DeleteData, DeleteTemplateMutationVariables,
  ResubmitTemplateMutation as ResubmitData, ResubmitTemplateMutationVariables,
  SubmitTemplateMutation as SubmitData, SubmitTemplateMutationVariables,
  SyncTemplatesMutation as SyncData,
  TemplatesQuery as TemplatesData,
  TemplateStatusChangedSubscription as StatusChangedData,
} from "../../gql/generated";
import { relativeTime, titleCase } from "../../lib/format";
import { useDebounced, useKeptFresh } from "../../lib/live";
import { failureOf } from "../../lib/results";
import { useSession } from "../../lib/session";
import { TemplateBuilder } from "./TemplateBuilder";
import { DeleteTemplateMutation, ResubmitTemplateMutation, SubmitTemplateMutation, SyncTemplatesMutation, TemplateStatusChangedSubscription, TemplatesQuery } from "./operations";
import "./templates.css";

export type TemplateRow = TemplatesData["templates"][number];

export function statusTone(status: string): "ok" | "warn" | "danger" | "info" | undefined {
  if (status === "APPROVED") return "ok";
  if (status === "PENDING" || status === "IN_APPEAL") return "info";
  if (status === "REJECTED" || status === "DISABLED" || status === "FLAGGED") return "danger";
  if (status === "PAUSED" || status === "LIMIT_EXCEEDED") return "warn";
  return undefined;
}

export const EDITABLE = new Set(["DRAFT", "REJECTED", "PAUSED"]);

export default function TemplatesPage() {
  const params = useParams();
  const selected = params["*"] || null;
  const navigate = useNavigate();
  const toast = useToast();
  const { can } = useSession();
  const admin = can("ADMIN");
  const [{ data, fetching, error }, refetch] = useQuery<TemplatesData>({ query: TemplatesQuery, requestPolicy: "cache-and-network" });
  const [, submit] = useMutation<SubmitData, SubmitTemplateMutationVariables>(SubmitTemplateMutation);
  const [, resubmit] = useMutation<ResubmitData, ResubmitTemplateMutationVariables>(ResubmitTemplateMutation);
  const [, sync] = useMutation<SyncData>(SyncTemplatesMutation);
  const [, remove] = useMutation<DeleteData, DeleteTemplateMutationVariables>(DeleteTemplateMutation);
  const [busy, setBusy] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<TemplateRow | null>(null);
  useEffect(() => {
    if (error) toast.error(`Could not load templates: ${error.message}`);
  }, [error, toast]);

  const rows = data?.templates ?? [];
  const reload = () => refetch({ requestPolicy: "network-only" });
  // A status change (Meta's review, a sync elsewhere) refetches the list; a burst, once.
  const reloadLive = useDebounced(reload);
  useSubscription<StatusChangedData>({ query: TemplateStatusChangedSubscription }, (_, e) => (reloadLive(), e));
  // Changes made while the events socket was down are not replayed: refetch when it is back.
  useKeptFresh(reloadLive);

  async function act(key: string, action: () => Promise<string | null>, done: string) {
    setBusy(key);
    try {
      const failure = await action();
      if (failure) toast.error(failure);
      else {
        toast.success(done);
        reload();
      }
    } finally {
      setBusy(null);
    }
  }

  if (selected) {
    const template = selected === "new" ? null : rows.find((t) => t.id === selected);
    if (selected !== "new" && !template) {
      return (
        <div className="page">
          {fetching && !data ? <Skeleton height={300} /> : <EmptyState icon="file" title="Template not found"><Button onClick={() => navigate("/templates")}>Back to templates</Button></EmptyState>}
        </div>
      );
    }
    return <TemplateBuilder template={template ?? null} readOnly={!admin || (template ? !EDITABLE.has(template.status) : false)} onDone={() => { reload(); navigate("/templates"); }} />;
  }

  return (
    <div className="page">
      <div className="page-head">
        <h1 className="grow">Templates</h1>
        {admin ? (
          <>
            <Button busy={busy === "sync"} data-testid="templates-sync" onClick={() => act("sync", async () => {
              const r = await sync({});
              const failure = r.error ? r.error.message : failureOf(r.data?.syncTemplates, "TemplateSyncReport");
              return failure;
            }, "Statuses synced with Meta.")}>Sync with Meta</Button>
            <Button variant="primary" onClick={() => navigate("/templates/new")} data-testid="template-new">New template</Button>
          </>
        ) : null}
      </div>
      <Card pad={false}>
        {fetching && !data ? (
          <div className="card-pad col">{Array.from({ length: 5 }, (_, i) => <Skeleton key={i} height={28} />)}</div>
        ) : error && !data ? (
          <EmptyState icon="alert" title="Could not load templates">{error.message} <Button size="sm" onClick={reload}>Retry</Button></EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState icon="file" title="No templates yet">Templates let the bot and your team write first, or after the 24-hour window closes.{admin ? " Create one, or sync those made in Meta's console." : ""}</EmptyState>
        ) : (
          <div className="table-scroll">
            <table className="table" data-testid="templates-table">
              <thead><tr><th>Name</th><th>Status</th><th className="hide-phone">Category</th><th className="hide-phone">Purpose</th><th className="hide-phone">Updated</th>{admin ? <th /> : null}</tr></thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.id} className="link" data-testid="template-row" onClick={() => navigate(`/templates/${t.id}`)}>
                    <td><strong className="mono">{t.name}</strong><div className="small muted">{t.language}</div></td>
                    <td>
                      <Badge tone={statusTone(t.status)}>{titleCase(t.status)}</Badge>
                      {t.rejectionReason ? <div className="small" style={{ color: "#b42318" }}>{t.rejectionReason}</div> : null}
                      {t.qualityScore ? <div className="small muted">Quality {titleCase(t.qualityScore)}</div> : null}
                    </td>
                    <td className="hide-phone">{titleCase(t.category)}</td>
                    <td className="hide-phone">{t.purpose ? titleCase(t.purpose) : "—"}</td>
                    <td className="hide-phone small muted">{relativeTime(t.updatedAt)}</td>
                    {admin ? (
                      <td onClick={(e) => e.stopPropagation()}>
                        <div className="row" style={{ gap: 6, justifyContent: "flex-end", flexWrap: "wrap" }}>
                          {t.status === "DRAFT" ? (
                            <Button size="sm" variant="primary" busy={busy === `submit-${t.id}`} onClick={() => act(`submit-${t.id}`, async () => {
                              const r = await submit({ id: t.id });
                              return r.error ? r.error.message : failureOf(r.data?.submitTemplate, "Template");
                            }, "Submitted to Meta for review.")}>Submit</Button>
                          ) : null}
                          {t.status === "REJECTED" ? (
                            <Button size="sm" variant="primary" busy={busy === `resubmit-${t.id}`} onClick={() => act(`resubmit-${t.id}`, async () => {
                              const r = await resubmit({ id: t.id });
                              return r.error ? r.error.message : failureOf(r.data?.resubmitTemplate, "Template");
                            }, "Sent back to Meta for review.")}>Resubmit</Button>
                          ) : null}
                          {EDITABLE.has(t.status) ? <Button size="sm" onClick={() => navigate(`/templates/${t.id}`)}>Edit</Button> : null}
                          <Button size="sm" variant="ghost" aria-label={`Delete ${t.name}`} onClick={() => setDeleting(t)}>Delete</Button>
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {deleting ? (
        <Modal title={`Delete ${deleting.name}?`} onClose={() => setDeleting(null)}>
          <p>{deleting.metaTemplateId ? "It is deleted on Meta too; Meta blocks the name for 30 days." : "The draft is deleted."}{deleting.status === "APPROVED" ? " It is approved: the bot stops using it." : ""}</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" busy={busy === "delete"} onClick={() => {
              const t = deleting;
              void act("delete", async () => {
                const r = await remove({ id: t.id, confirm: t.status === "APPROVED" });
                setDeleting(null);
                return r.error ? r.error.message : failureOf(r.data?.deleteTemplate, "Deleted");
              }, "Template deleted.");
            }}>Delete</Button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
