// The knowledge base: upload with progress (multipart over XHR to the REST endpoint, the only
// upload with progress events), documents with their ingestion status and progress (live, from
// knowledgeDocumentUpdated), delete, and a search box showing what retrieval finds, with scores.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useClient, useMutation, useQuery, useSubscription } from "urql";
import { Badge, Button, Card, EmptyState, Modal, Skeleton } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  DeleteKnowledgeDocumentMutation as DeleteData, DeleteKnowledgeDocumentMutationVariables,
  KnowledgeDocumentsQuery as DocumentsData,
  KnowledgeDocumentStatus,
  KnowledgeDocumentUpdatedSubscription as DocumentUpdatedData,
  KnowledgeSearchQuery as SearchData, KnowledgeSearchQueryVariables,
} from "../../gql/generated";
import { bytes, KNOWLEDGE_TYPES, knowledgeFileProblem } from "../../lib/bytes";
import { percent, relativeTime, titleCase } from "../../lib/format";
import { isIngesting, needsRefetch, NO_OVERLAY, recordUpdate, withLive, type LiveOverlay } from "../../lib/knowledgeLive";
import { SAFETY_REFRESH_MS, useDebounced, useKeptFresh } from "../../lib/live";
import { failureOf } from "../../lib/results";
import { useSession } from "../../lib/session";
import { uploadWithProgress } from "../../lib/upload";
import { DeleteKnowledgeDocumentMutation, KnowledgeDocumentsQuery, KnowledgeDocumentUpdatedSubscription, KnowledgeSearchQuery } from "./operations";

type Doc = DocumentsData["knowledgeDocuments"][number];

function statusTone(status: string): "ok" | "info" | "danger" | undefined {
  return status === "READY" ? "ok" : status === "FAILED" ? "danger" : "info";
}

function Bar({ value, label }: { value: number; label: string }) {
  return (
    <div role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(value)} style={{ height: 6, background: "var(--line)", borderRadius: 3, overflow: "hidden" }}>
      <div style={{ width: `${Math.max(0, Math.min(100, value))}%`, height: "100%", background: "var(--brand, #0f766e)", transition: "width .2s" }} />
    </div>
  );
}

function Uploader({ onUploaded }: { onUploaded: () => void }) {
  const toast = useToast();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [progress, setProgress] = useState<number | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    const problem = knowledgeFileProblem(file.name, file.size);
    if (problem) return toast.error(problem);
    setProgress(0);
    try {
      await uploadWithProgress("/knowledge/documents", file, {
        fields: title.trim() ? { title: title.trim() } : {},
        onProgress: (f) => setProgress(f * 100),
      });
      toast.success(`${file.name} uploaded; it is being ingested.`);
      setFile(null);
      setTitle("");
      if (input.current) input.current.value = "";
      onUploaded();
    } catch (err) {
      toast.error(`Upload failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setProgress(null);
    }
  }

  return (
    <Card>
      <form className="col" style={{ gap: 10 }} onSubmit={submit} data-testid="knowledge-upload">
        <h2>Upload a document</h2>
        <label className="field">File (PDF, Markdown or text, up to 20 MB)
          <input ref={input} className="input" type="file" accept={KNOWLEDGE_TYPES.join(",")} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <label className="field">Title (optional)
          <input className="input" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="From the file name when empty" />
        </label>
        {file ? <div className="small muted">{file.name} · {bytes(file.size)}</div> : null}
        {progress !== null ? <div className="col" style={{ gap: 4 }}><Bar value={progress} label="Upload progress" /><span className="small muted">Uploading… {Math.round(progress)}%</span></div> : null}
        <div><Button type="submit" variant="primary" disabled={!file} busy={progress !== null} data-testid="knowledge-upload-submit">Upload</Button></div>
      </form>
    </Card>
  );
}

function SearchBox() {
  const client = useClient();
  const toast = useToast();
  const [query, setQuery] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<SearchData["knowledgeSearch"] | null>(null);

  async function search(e: FormEvent) {
    e.preventDefault();
    if (!query.trim()) return;
    setBusy(true);
    try {
      const r = await client.query<SearchData, KnowledgeSearchQueryVariables>(KnowledgeSearchQuery, { query: query.trim(), topK: 5 }, { requestPolicy: "network-only" }).toPromise();
      if (r.error) toast.error(`Search failed: ${r.error.message}`);
      else setResult(r.data?.knowledgeSearch ?? null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card>
      <form className="col" style={{ gap: 10 }} onSubmit={search}>
        <h2>Test retrieval</h2>
        <div className="row" style={{ gap: 8 }}>
          <input className="input grow" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Ask what a customer would ask" aria-label="Search the knowledge base" data-testid="knowledge-query" />
          <Button type="submit" busy={busy} data-testid="knowledge-search">Search</Button>
        </div>
      </form>
      {result ? (
        <div className="col" style={{ gap: 8, marginTop: 12 }} data-testid="knowledge-results">
          <div className="small">
            {result.grounded ? <Badge tone="ok">Grounded</Badge> : <Badge tone="warn">Not grounded</Badge>}{" "}
            <span className="muted">the bot answers from these when the best score reaches {result.threshold.toFixed(2)}</span>
          </div>
          {result.hits.length === 0 ? <EmptyState icon="search" title="Nothing found">No chunk matches; upload a document that answers it.</EmptyState> : result.hits.map((h) => (
            <div key={h.chunkId} className="card card-pad" data-testid="knowledge-hit" style={{ padding: 10 }}>
              <div className="row" style={{ gap: 8 }}>
                <strong className="grow ellipsis">{h.title}{h.page ? ` · p. ${h.page}` : ""}</strong>
                <Badge tone={h.score >= result.threshold ? "ok" : undefined} title="Similarity, 0 to 1">{h.score.toFixed(3)}</Badge>
              </div>
              <div className="small" style={{ whiteSpace: "pre-wrap", marginTop: 4, maxHeight: 120, overflow: "auto" }}>{h.content}</div>
            </div>
          ))}
        </div>
      ) : null}
    </Card>
  );
}

export default function KnowledgePage() {
  const toast = useToast();
  const { can } = useSession();
  const admin = can("ADMIN");
  const [{ data, fetching, error }, refetch] = useQuery<DocumentsData>({ query: KnowledgeDocumentsQuery, requestPolicy: "cache-and-network" });
  const [, remove] = useMutation<DeleteData, DeleteKnowledgeDocumentMutationVariables>(DeleteKnowledgeDocumentMutation);
  const [deleting, setDeleting] = useState<Doc | null>(null);
  const [busy, setBusy] = useState(false);
  const [live, setLive] = useState<LiveOverlay<KnowledgeDocumentStatus>>(NO_OVERLAY);
  const fetched = data?.knowledgeDocuments;
  const docs = withLive(fetched ?? [], live);
  const working = isIngesting(docs);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const reloadLive = useDebounced(reload);
  // Each event is laid over the list on screen; a fresh list is the record again.
  useSubscription<DocumentUpdatedData>({ query: KnowledgeDocumentUpdatedSubscription }, (_, e) => {
    const update = e.knowledgeDocumentUpdated;
    setLive((current) => recordUpdate(current, fetched, update));
    if (needsRefetch(fetched ?? [], update)) reloadLive();
    return e;
  });
  // Events sent while the socket was down are lost: refetch when it is back, and while a
  // document is still being ingested refetch now and then, so it never stays "processing".
  useKeptFresh(reloadLive, working ? SAFETY_REFRESH_MS : null);

  useEffect(() => {
    if (error) toast.error(`Could not load documents: ${error.message}`);
  }, [error, toast]);

  return (
    <div className="page">
      <div className="page-head"><h1 className="grow">Knowledge base</h1></div>
      <div className="grid-2">
        <div className="col" style={{ gap: 16, minWidth: 0 }}>
          <Card pad={false}>
            <div className="row card-pad" style={{ paddingBottom: 8 }}>
              <h2 className="grow">Documents</h2>
              {working ? <span className="small muted">Ingesting…</span> : null}
            </div>
            {fetching && !data ? (
              <div className="card-pad col">{Array.from({ length: 4 }, (_, i) => <Skeleton key={i} height={28} />)}</div>
            ) : error && !data ? (
              <EmptyState icon="alert" title="Could not load documents">{error.message} <Button size="sm" onClick={reload}>Retry</Button></EmptyState>
            ) : docs.length === 0 ? (
              <EmptyState icon="file" title="No documents yet">Upload menus, price lists, FAQs and policies: the bot answers from them.</EmptyState>
            ) : (
              <div style={{ overflowX: "auto" }}>
                <table className="table" data-testid="knowledge-documents">
                  <thead><tr><th>Document</th><th>Status</th><th>Chunks</th>{admin ? <th /> : null}</tr></thead>
                  <tbody>
                    {docs.map((d) => (
                      <tr key={d.id} data-testid="knowledge-document">
                        <td>
                          <strong>{d.title}</strong>
                          <div className="small muted">{d.filename ?? titleCase(d.docType)} · {bytes(d.sizeBytes)} · {relativeTime(d.createdAt)}</div>
                        </td>
                        <td style={{ minWidth: 120 }}>
                          <Badge tone={statusTone(d.status)}>{titleCase(d.status)}</Badge>
                          {d.status === "PROCESSING" ? <div style={{ marginTop: 4 }}><Bar value={d.progress} label={`Ingesting ${d.title}`} /><span className="small muted">{percent(d.progress / 100)}</span></div> : null}
                          {d.error ? <div className="small" style={{ color: "#b42318" }}>{d.error}</div> : null}
                        </td>
                        <td>{d.chunkCount}</td>
                        {admin ? <td><Button size="sm" variant="ghost" aria-label={`Delete ${d.title}`} onClick={() => setDeleting(d)}>Delete</Button></td> : null}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
        </div>
        <div className="col" style={{ gap: 16, minWidth: 0 }}>
          {admin ? <Uploader onUploaded={reload} /> : null}
          <SearchBox />
        </div>
      </div>
      {deleting ? (
        <Modal title={`Delete ${deleting.title}?`} onClose={() => setDeleting(null)}>
          <p>Its chunks and vectors are deleted; the bot stops answering from it.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" busy={busy} onClick={async () => {
              setBusy(true);
              try {
                const r = await remove({ id: deleting.id });
                const failure = r.error ? r.error.message : failureOf(r.data?.deleteKnowledgeDocument, "Deleted");
                if (failure) toast.error(failure);
                else toast.success("Document deleted.");
                setDeleting(null);
                reload();
              } finally {
                setBusy(false);
              }
            }}>Delete</Button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
