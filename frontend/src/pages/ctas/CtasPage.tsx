// CTAs: what the bot may offer (book a call, a demo, a link, a visit); create, edit,
// activate and deactivate, delete (soft).
import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { Badge, Button, Card, EmptyState, Modal, Skeleton } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  CreateCtaMutation as CreateData, CreateCtaMutationVariables, CtaCreateInput,
  CtasQuery as CtasData,
  DeleteCtaMutation as DeleteData, DeleteCtaMutationVariables,
  SetCtaActiveMutation as ActiveData, SetCtaActiveMutationVariables,
  UpdateCtaMutation as UpdateData, UpdateCtaMutationVariables,
} from "../../gql/generated";
import { ctaProblems, BUTTON_TEXT_MAX, type CtaDraft } from "../../lib/ctaRules";
import { relativeTime, titleCase } from "../../lib/format";
import { failureOf } from "../../lib/results";
import { useSession } from "../../lib/session";
import { CreateCtaMutation, CtasQuery, DeleteCtaMutation, SetCtaActiveMutation, UpdateCtaMutation } from "./operations";

type Cta = CtasData["ctas"][number];
const TYPES = ["BOOK_CALL", "BOOK_DEMO", "SEND_LINK", "VISIT", "CUSTOM"];
const EMPTY: CtaDraft = { type: "BOOK_CALL", name: "", description: "", url: "", buttonText: "" };

function CtaForm({ cta, onClose, onSaved }: { cta: Cta | null; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const [draft, setDraft] = useState<CtaDraft>(cta ? { type: cta.type, name: cta.name, description: cta.description ?? "", url: cta.url ?? "", buttonText: cta.buttonText ?? "" } : EMPTY);
  const [payload, setPayload] = useState(cta ? JSON.stringify(cta.payload ?? {}, null, 2) : "{}");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [, create] = useMutation<CreateData, CreateCtaMutationVariables>(CreateCtaMutation);
  const [, update] = useMutation<UpdateData, UpdateCtaMutationVariables>(UpdateCtaMutation);
  let parsed: unknown = null;
  let payloadError: string | null = null;
  try {
    parsed = JSON.parse(payload || "{}");
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) payloadError = "The payload is a JSON object.";
  } catch {
    payloadError = "The payload is not valid JSON.";
  }
  const problems = [...ctaProblems(draft), ...(payloadError ? [payloadError] : [])];
  const set = (patch: Partial<CtaDraft>) => setDraft((d) => ({ ...d, ...patch }));

  async function save() {
    setTouched(true);
    if (problems.length) return;
    setBusy(true);
    try {
      const input = {
        type: draft.type as CtaCreateInput["type"],
        name: draft.name.trim(),
        description: draft.description || null,
        url: draft.url || null,
        buttonText: draft.buttonText || null,
        payload: parsed,
      };
      let failure: string | null;
      if (cta) {
        const r = await update({ id: cta.id, input });
        failure = r.error ? r.error.message : failureOf(r.data?.updateCta, "Cta");
      } else {
        const r = await create({ input });
        failure = r.error ? r.error.message : failureOf(r.data?.createCta, "Cta");
      }
      if (failure) toast.error(`Could not save: ${failure}`);
      else {
        toast.success(cta ? "CTA saved." : "CTA created.");
        onSaved();
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title={cta ? `Edit ${cta.name}` : "New CTA"} onClose={onClose}>
      <form className="col" style={{ gap: 10 }} onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <label className="field">Type
          <select className="select" value={draft.type} onChange={(e) => set({ type: e.target.value })}>
            {TYPES.map((t) => <option key={t} value={t}>{titleCase(t)}</option>)}
          </select>
        </label>
        <label className="field">Name<input className="input" value={draft.name} onChange={(e) => set({ name: e.target.value })} required /></label>
        <label className="field">Description (what the bot says it is)
          <textarea className="textarea" rows={2} value={draft.description} onChange={(e) => set({ description: e.target.value })} />
        </label>
        <label className="field">URL<input className="input" value={draft.url} placeholder="https://…" onChange={(e) => set({ url: e.target.value })} /></label>
        <label className="field">Button text ({draft.buttonText.length}/{BUTTON_TEXT_MAX})
          <input className="input" value={draft.buttonText} onChange={(e) => set({ buttonText: e.target.value })} />
        </label>
        <label className="field">Payload (JSON)
          <textarea className="textarea mono" rows={3} value={payload} onChange={(e) => setPayload(e.target.value)} />
        </label>
        {touched && problems.length ? <div className="form-error" role="alert">{problems.join(" ")}</div> : null}
        <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
          <Button type="button" onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy} data-testid="cta-save">{cta ? "Save" : "Create"}</Button>
        </div>
      </form>
    </Modal>
  );
}

export default function CtasPage() {
  const toast = useToast();
  const { can } = useSession();
  const admin = can("ADMIN");
  const [{ data, fetching, error }, refetch] = useQuery<CtasData>({ query: CtasQuery, requestPolicy: "cache-and-network" });
  const [, setActive] = useMutation<ActiveData, SetCtaActiveMutationVariables>(SetCtaActiveMutation);
  const [, remove] = useMutation<DeleteData, DeleteCtaMutationVariables>(DeleteCtaMutation);
  const [editing, setEditing] = useState<Cta | "new" | null>(null);
  const [deleting, setDeleting] = useState<Cta | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    if (error) toast.error(`Could not load CTAs: ${error.message}`);
  }, [error, toast]);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const rows = data?.ctas ?? [];

  async function toggle(c: Cta) {
    setBusy(c.id);
    try {
      const r = await setActive({ id: c.id, active: !c.isActive });
      const failure = r.error ? r.error.message : failureOf(r.data?.setCtaActive, "Cta");
      if (failure) toast.error(failure);
      else toast.success(c.isActive ? `${c.name} deactivated.` : `${c.name} activated.`);
      reload();
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="page">
      <div className="page-head">
        <h1 className="grow">Calls to action</h1>
        {admin ? <Button variant="primary" onClick={() => setEditing("new")} data-testid="cta-new">New CTA</Button> : null}
      </div>
      <Card pad={false}>
        {fetching && !data ? (
          <div className="card-pad col">{Array.from({ length: 4 }, (_, i) => <Skeleton key={i} height={28} />)}</div>
        ) : error && !data ? (
          <EmptyState icon="alert" title="Could not load CTAs">{error.message} <Button size="sm" onClick={reload}>Retry</Button></EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState icon="pointer" title="No CTAs yet">A CTA is what the bot steers a qualified lead to: a call, a demo, a link, a visit.</EmptyState>
        ) : (
          <div style={{ overflowX: "auto" }}>
            <table className="table" data-testid="ctas-table">
              <thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Link</th><th>Updated</th>{admin ? <th /> : null}</tr></thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} data-testid="cta-row">
                    <td><strong>{c.name}</strong>{c.description ? <div className="small muted">{c.description}</div> : null}</td>
                    <td>{titleCase(c.type)}</td>
                    <td><Badge tone={c.isActive ? "ok" : undefined}>{c.isActive ? "Active" : "Inactive"}</Badge></td>
                    <td className="small">{c.url ? <a href={c.url} target="_blank" rel="noreferrer">{c.buttonText ?? c.url}</a> : "—"}</td>
                    <td className="small muted">{relativeTime(c.updatedAt)}</td>
                    {admin ? (
                      <td>
                        <div className="row" style={{ gap: 6, justifyContent: "flex-end" }}>
                          <Button size="sm" busy={busy === c.id} onClick={() => void toggle(c)}>{c.isActive ? "Deactivate" : "Activate"}</Button>
                          <Button size="sm" onClick={() => setEditing(c)}>Edit</Button>
                          <Button size="sm" variant="ghost" onClick={() => setDeleting(c)}>Delete</Button>
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
      {editing ? <CtaForm cta={editing === "new" ? null : editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); reload(); }} /> : null}
      {deleting ? (
        <Modal title={`Delete ${deleting.name}?`} onClose={() => setDeleting(null)}>
          <p>The bot stops offering it; conversations keep their history.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" busy={busy === "delete"} onClick={async () => {
              setBusy("delete");
              try {
                const r = await remove({ id: deleting.id });
                const failure = r.error ? r.error.message : failureOf(r.data?.deleteCta, "Deleted");
                if (failure) toast.error(failure);
                else toast.success("CTA deleted.");
                setDeleting(null);
                reload();
              } finally {
                setBusy(null);
              }
            }}>Delete</Button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
