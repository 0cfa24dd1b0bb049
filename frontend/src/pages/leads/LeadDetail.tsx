// One lead in a drawer: details, conversations, tags, notes, opt-out, GDPR erase.
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { Badge, Button, Drawer, EmptyState, Modal, SkeletonLines } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  AddLeadNoteMutation as AddNoteData, AddLeadNoteMutationVariables,
  EraseLeadMutation as EraseData, EraseLeadMutationVariables,
  LeadDetailQuery as DetailData, LeadDetailQueryVariables,
  OptOutLeadMutation as OptOutData, OptOutLeadMutationVariables,
  TagLeadMutation as TagData, TagLeadMutationVariables,
  UpdateLeadMutation as UpdateData, UpdateLeadMutationVariables,
  ConversationStage,
} from "../../gql/generated";
import { leadName, relativeTime, titleCase } from "../../lib/format";
import { failureOf } from "../../lib/results";
import { useSession } from "../../lib/session";
import { intentTone, STAGES } from "./LeadsPage";
import { AddLeadNoteMutation, EraseLeadMutation, LeadDetailQuery, OptOutLeadMutation, TagLeadMutation, UpdateLeadMutation } from "./operations";

export function LeadDetail({ id, onClose, onErased }: { id: string; onClose: () => void; onErased: () => void }) {
  const toast = useToast();
  const { can } = useSession();
  const [{ data, fetching, error }, refetch] = useQuery<DetailData, LeadDetailQueryVariables>({ query: LeadDetailQuery, variables: { id }, requestPolicy: "cache-and-network" });
  const [, tagLead] = useMutation<TagData, TagLeadMutationVariables>(TagLeadMutation);
  const [, addNote] = useMutation<AddNoteData, AddLeadNoteMutationVariables>(AddLeadNoteMutation);
  const [, optOut] = useMutation<OptOutData, OptOutLeadMutationVariables>(OptOutLeadMutation);
  const [, erase] = useMutation<EraseData, EraseLeadMutationVariables>(EraseLeadMutation);
  const [, updateLead] = useMutation<UpdateData, UpdateLeadMutationVariables>(UpdateLeadMutation);
  const [editing, setEditing] = useState<{ name: string; email: string; company: string; language: string; stage: string } | null>(null);
  const [newTag, setNewTag] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmOptOut, setConfirmOptOut] = useState(false);
  const [erasing, setErasing] = useState(false);
  const [typed, setTyped] = useState("");
  // Notes added here show at once, whatever the order the refetches answer in.
  const [added, setAdded] = useState<Array<{ id: string; body: string; authorUserId: string | null; createdAt: string }>>([]);

  const detail = data?.lead;
  const lead = detail?.lead;
  const canEdit = can("AGENT");
  const names = new Map(data?.users.map((u) => [u.id, u.name]) ?? []);
  const notes = detail ? [...added.filter((n) => !detail.notes.some((m) => m.id === n.id)), ...detail.notes] : [];

  async function run(label: string, action: () => Promise<string | null>, done?: string) {
    setBusy(label);
    try {
      const failure = await action();
      if (failure) toast.error(failure);
      else {
        if (done) toast.success(done);
        refetch({ requestPolicy: "network-only" });
      }
    } finally {
      setBusy(null);
    }
  }

  const tag = (add: string[] | null, remove: string[] | null) =>
    run("tag", async () => {
      const r = await tagLead({ id, add, remove });
      return r.error ? r.error.message : failureOf(r.data?.tagLead, "Lead");
    });

  function submitTag(e: FormEvent) {
    e.preventDefault();
    const value = newTag.trim();
    if (!value) return;
    setNewTag("");
    void tag([value], null);
  }

  function submitNote(e: FormEvent) {
    e.preventDefault();
    const body = note.trim();
    if (!body) return;
    void run("note", async () => {
      const r = await addNote({ id, body });
      const failure = r.error ? r.error.message : failureOf(r.data?.addLeadNote, "Note");
      const created = r.data?.addLeadNote;
      if (!failure) setNote("");
      if (!failure && created?.__typename === "Note") setAdded((a) => [created, ...a]);
      return failure;
    }, "Note added.");
  }

  const expected = lead ? (lead.waId ?? lead.id) : "";

  return (
    <Drawer title={lead ? leadName(lead) : "Lead"} label="Lead detail" onClose={onClose}>
      {fetching && !data ? <SkeletonLines lines={6} /> : error && !data ? (
        <EmptyState icon="alert" title="Could not load the lead">{error.message}</EmptyState>
      ) : !lead || !detail ? (
        <EmptyState icon="user" title="Lead not found">It may have been erased.</EmptyState>
      ) : (
        <div className="col" style={{ gap: 16 }} data-testid="lead-detail">
          {editing ? (
            <form className="col" style={{ gap: 8 }} data-testid="lead-edit" onSubmit={(e) => {
              e.preventDefault();
              const input = {
                name: editing.name.trim() || null,
                email: editing.email.trim() || null,
                company: editing.company.trim() || null,
                language: editing.language.trim() || null,
                stage: editing.stage as ConversationStage,
              };
              void run("edit", async () => {
                const r = await updateLead({ id, input });
                const failure = r.error ? r.error.message : failureOf(r.data?.updateLead, "Lead");
                if (!failure) setEditing(null);
                return failure;
              }, "Lead saved.");
            }}>
              <label className="field">Name<input className="input" value={editing.name} maxLength={255} onChange={(e) => setEditing({ ...editing, name: e.target.value })} /></label>
              <label className="field">Email<input className="input" type="email" value={editing.email} onChange={(e) => setEditing({ ...editing, email: e.target.value })} /></label>
              <label className="field">Company<input className="input" value={editing.company} onChange={(e) => setEditing({ ...editing, company: e.target.value })} /></label>
              <label className="field">Language<input className="input" value={editing.language} placeholder="en" onChange={(e) => setEditing({ ...editing, language: e.target.value })} /></label>
              <label className="field">Stage
                <select className="select" value={editing.stage} onChange={(e) => setEditing({ ...editing, stage: e.target.value })}>
                  {STAGES.map((st) => <option key={st} value={st}>{titleCase(st)}</option>)}
                </select>
              </label>
              <div className="row" style={{ gap: 8, justifyContent: "flex-end" }}>
                <Button type="button" onClick={() => setEditing(null)}>Cancel</Button>
                <Button type="submit" variant="primary" busy={busy === "edit"}>Save</Button>
              </div>
            </form>
          ) : canEdit ? (
            <div className="row" style={{ justifyContent: "flex-end" }}>
              <Button size="sm" onClick={() => setEditing({ name: lead.name ?? "", email: lead.email ?? "", company: lead.company ?? "", language: lead.language ?? "", stage: lead.stage })}>Edit details</Button>
            </div>
          ) : null}
          <dl className="kv">
            <dt>Number</dt><dd>{lead.waId ? `+${lead.waId}` : "—"}</dd>
            <dt>Email</dt><dd>{lead.email ?? "—"}</dd>
            <dt>Company</dt><dd>{lead.company ?? "—"}</dd>
            <dt>Language</dt><dd>{lead.language ?? "—"}</dd>
            <dt>Stage</dt><dd>{titleCase(lead.stage)}</dd>
            <dt>Intent</dt><dd><Badge tone={intentTone(lead.intentLevel)}>{titleCase(lead.intentLevel)}</Badge></dd>
            <dt>Sentiment</dt><dd>{titleCase(lead.sentiment)}</dd>
            <dt>First seen</dt><dd>{relativeTime(lead.createdAt)}</dd>
            <dt>Last message</dt><dd>{relativeTime(lead.lastInboundAt)}</dd>
            <dt>Contact</dt>
            <dd data-testid="lead-optout">
              {lead.optedOut ? <Badge tone="danger">Opted out {relativeTime(lead.optedOutAt)}</Badge> : <Badge tone="ok">Can be contacted</Badge>}
              {!lead.optedOut && canEdit ? <Button size="sm" variant="ghost" onClick={() => setConfirmOptOut(true)} style={{ marginLeft: 8 }}>Mark opted out</Button> : null}
            </dd>
          </dl>

          <section className="col">
            <h3>Tags</h3>
            <div className="tag-edit">
              {lead.tags.length === 0 ? <span className="small muted">No tags</span> : null}
              {lead.tags.map((t) => (
                <Badge key={t} tone="brand">{t}{canEdit ? <button aria-label={`Remove tag ${t}`} onClick={() => void tag(null, [t])} disabled={busy === "tag"}>×</button> : null}</Badge>
              ))}
              {canEdit ? (
                <form onSubmit={submitTag} className="row" style={{ gap: 6 }}>
                  <input className="input" aria-label="New tag" placeholder="Add a tag" value={newTag} maxLength={50} onChange={(e) => setNewTag(e.target.value)} style={{ width: 140 }} />
                  <Button size="sm" type="submit" busy={busy === "tag"}>Add</Button>
                </form>
              ) : null}
            </div>
          </section>

          <section className="col">
            <h3>Conversations</h3>
            {detail.conversations.edges.length === 0 ? <span className="small muted">No conversations</span> : (
              <ul className="col" style={{ listStyle: "none", padding: 0, margin: 0 }}>
                {detail.conversations.edges.map(({ node: c }) => (
                  <li key={c.id}>
                    <Link to={`/inbox/${c.id}`} className="row" style={{ gap: 8 }}>
                      <Badge tone={c.mode === "HUMAN" ? "warn" : c.mode === "CLOSED" ? undefined : "brand"}>{titleCase(c.mode)}</Badge>
                      <span className="grow ellipsis">{c.lastMessagePreview ?? titleCase(c.stage)}</span>
                      <span className="small muted">{relativeTime(c.lastMessageAt ?? c.createdAt)}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </section>

          <section className="col">
            <h3>Notes</h3>
            {canEdit ? (
              <form onSubmit={submitNote} className="col" style={{ gap: 6 }}>
                <textarea className="textarea" aria-label="New note" rows={2} placeholder="Write a note for your team" value={note} onChange={(e) => setNote(e.target.value)} />
                <div><Button size="sm" type="submit" busy={busy === "note"} disabled={!note.trim()}>Add note</Button></div>
              </form>
            ) : null}
            {notes.length === 0 ? <span className="small muted">No notes</span> : notes.map((n) => (
              <div key={n.id} className="note">
                <div style={{ whiteSpace: "pre-wrap" }}>{n.body}</div>
                <div className="small muted">{(n.authorUserId && names.get(n.authorUserId)) || "Someone"} · {relativeTime(n.createdAt)}</div>
              </div>
            ))}
          </section>

          {can("ADMIN") ? (
            <section className="col">
              <h3>Personal data</h3>
              <p className="small muted" style={{ margin: 0 }}>Erasing removes the lead, its conversations, messages, notes and traces for good (GDPR).</p>
              <div><Button variant="danger" onClick={() => { setTyped(""); setErasing(true); }} data-testid="lead-erase">Erase this lead…</Button></div>
            </section>
          ) : null}
        </div>
      )}

      {confirmOptOut && lead ? (
        <Modal title="Mark as opted out?" onClose={() => setConfirmOptOut(false)}>
          <p>No proactive message (follow-ups, templates) will be sent to {leadName(lead)} again. Opting back in is the customer's own act.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setConfirmOptOut(false)}>Cancel</Button>
            <Button variant="danger" busy={busy === "optout"} onClick={() => void run("optout", async () => {
              const r = await optOut({ id });
              setConfirmOptOut(false);
              return r.error ? r.error.message : failureOf(r.data?.optOutLead, "Lead");
            }, "Lead opted out.")}>Opt out</Button>
          </div>
        </Modal>
      ) : null}

      {erasing && lead ? (
        <Modal title="Erase this lead" onClose={() => setErasing(false)}>
          <p>This deletes everything about {leadName(lead)} and cannot be undone. Type <strong className="mono">{expected}</strong> to confirm.</p>
          <input className="input" aria-label="Type to confirm" value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
          <div className="row" style={{ justifyContent: "flex-end", gap: 8, marginTop: 12 }}>
            <Button onClick={() => setErasing(false)}>Cancel</Button>
            <Button variant="danger" disabled={typed.trim() !== expected} busy={busy === "erase"} data-testid="lead-erase-confirm" onClick={async () => {
              setBusy("erase");
              try {
                const r = await erase({ id });
                const failure = r.error ? r.error.message : failureOf(r.data?.eraseLead, "Erased");
                if (failure) toast.error(`Could not erase: ${failure}`);
                else {
                  toast.success("Lead erased.");
                  setErasing(false);
                  onErased();
                }
              } finally {
                setBusy(null);
              }
            }}>Erase for good</Button>
          </div>
        </Modal>
      ) : null}
    </Drawer>
  );
}
