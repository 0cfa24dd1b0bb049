// Follow-ups: the sequences of nudges the bot sends a quiet lead; list, create, edit (written
// whole), delete. Admins edit; everyone else reads.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { Badge, Button, Card, Drawer, EmptyState, Modal, Skeleton, SkeletonLines } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  CreateFollowupSequenceMutation as CreateData, CreateFollowupSequenceMutationVariables,
  DeleteFollowupSequenceMutation as DeleteData, DeleteFollowupSequenceMutationVariables,
  FollowupSequenceInput,
  FollowupSequenceQuery as SequenceData, FollowupSequenceQueryVariables,
  FollowupSequencesQuery as SequencesData,
  FollowupTemplatesQuery as TemplatesData,
  ReplaceFollowupSequenceMutation as ReplaceData, ReplaceFollowupSequenceMutationVariables,
} from "../../gql/generated";
import {
  HINT_MAX, MAX_DELAY_MINUTES, MAX_STEPS, emptyStep, formatDelay, moveStep, sequenceProblems, serverProblems, splitDelay, toInput,
  type DelayUnit, type Problems, type SequenceDraft, type StepDraft,
} from "../../lib/followupRules";
import { relativeTime } from "../../lib/format";
import { failureOf } from "../../lib/results";
import { useSession } from "../../lib/session";
import {
  CreateFollowupSequenceMutation, DeleteFollowupSequenceMutation, FollowupSequenceQuery, FollowupSequencesQuery, FollowupTemplatesQuery,
  ReplaceFollowupSequenceMutation,
} from "./operations";
import "./followups.css";

type Sequence = SequencesData["followupSequences"][number];
type Template = TemplatesData["templates"][number];
const TRIGGERS: { value: string; label: string; help: string }[] = [
  { value: "NO_REPLY", label: "No reply", help: "The lead has not answered the last outbound message: the active one starts after each bot reply." },
  { value: "CTA_PENDING", label: "CTA pending", help: "For a CTA offered and not taken up. Kept for later: today the bot starts only the active No reply sequence." },
  { value: "MANUAL", label: "Manual", help: "For an operator to start. Kept for later: today the bot starts only the active No reply sequence." },
];
const triggerLabel = (t: string) => TRIGGERS.find((x) => x.value === t)?.label ?? t;
const UNITS: DelayUnit[] = ["minutes", "hours", "days"];
const EMPTY: SequenceDraft = { name: "", trigger: "NO_REPLY", isActive: true, steps: [emptyStep()] };

function draftOf(s: Sequence | NonNullable<SequenceData["followupSequence"]>): SequenceDraft {
  return {
    name: s.name,
    trigger: s.trigger,
    isActive: s.isActive,
    steps: s.steps.map((step) => ({ ...splitDelay(step.delayMinutes), messageHint: step.messageHint ?? "", templateId: step.templateId ?? "" })),
  };
}

function FieldError({ text, id }: { text: string | undefined; id?: string }) {
  return text ? <div className="fu-error" role="alert" id={id}>{text}</div> : null;
}

function StepEditor({ step, index, count, templates, problems, canEdit, onChange, onMove, onRemove }: {
  step: StepDraft; index: number; count: number; templates: Template[]; problems: Problems; canEdit: boolean;
  onChange: (patch: Partial<StepDraft>) => void; onMove: (by: -1 | 1) => void; onRemove: () => void;
}) {
  const n = index + 1;
  const key = `steps.${index}`;
  const known = !step.templateId || templates.some((t) => t.id === step.templateId);
  return (
    <li className="fu-step" data-testid="followup-step">
      <div className="row fu-step-head">
        <strong className="grow">Step {n}</strong>
        {canEdit ? (
          <div className="row" style={{ gap: 4 }}>
            <Button type="button" size="sm" variant="ghost" disabled={index === 0} onClick={() => onMove(-1)} aria-label={`Move step ${n} up`}>↑</Button>
            <Button type="button" size="sm" variant="ghost" disabled={index === count - 1} onClick={() => onMove(1)} aria-label={`Move step ${n} down`}>↓</Button>
            <Button type="button" size="sm" variant="ghost" disabled={count <= 1} onClick={onRemove} aria-label={`Remove step ${n}`}>Remove</Button>
          </div>
        ) : null}
      </div>
      <div className="fu-delay">
        <label className="field">Step {n} delay
          <input className="input" inputMode="numeric" value={step.delay} aria-invalid={problems[`${key}.delay_minutes`] ? true : undefined}
            onChange={(e) => onChange({ delay: e.target.value })} />
        </label>
        <label className="field">Step {n} unit
          <select className="select" value={step.unit} onChange={(e) => onChange({ unit: e.target.value as DelayUnit })}>
            {UNITS.map((u) => <option key={u} value={u}>{u}</option>)}
          </select>
        </label>
      </div>
      <div className="small muted">after the previous outbound message (the bot's reply, or the step before).</div>
      <FieldError text={problems[`${key}.delay_minutes`]} />
      <label className="field">Step {n} hint ({step.messageHint.length}/{HINT_MAX})
        <textarea className="textarea" rows={2} value={step.messageHint} placeholder="What this nudge should say, e.g. ask whether they had a look"
          aria-invalid={problems[`${key}.message_hint`] ? true : undefined} onChange={(e) => onChange({ messageHint: e.target.value })} />
      </label>
      <FieldError text={problems[`${key}.message_hint`]} />
      <label className="field">Step {n} template (outside the 24-hour window)
        <select className="select" value={step.templateId} onChange={(e) => onChange({ templateId: e.target.value })}>
          <option value="">None: an approved follow-up template if there is one, else skip</option>
          {templates.map((t) => <option key={t.id} value={t.id}>{t.name} ({t.language})</option>)}
          {!known ? <option value={step.templateId}>A template that is no longer approved</option> : null}
        </select>
      </label>
      <FieldError text={problems[`${key}.template_id`]} />
      <FieldError text={problems[key]} />
    </li>
  );
}

function SequenceEditor({ sequence, canEdit, templates, onClose, onSaved }: {
  sequence: Sequence | NonNullable<SequenceData["followupSequence"]> | null; canEdit: boolean; templates: Template[]; onClose: () => void; onSaved: () => void;
}) {
  const toast = useToast();
  const [draft, setDraft] = useState<SequenceDraft>(sequence ? draftOf(sequence) : EMPTY);
  const [touched, setTouched] = useState(false);
  const [server, setServer] = useState<Problems>({});
  const [busy, setBusy] = useState(false);
  const [, create] = useMutation<CreateData, CreateFollowupSequenceMutationVariables>(CreateFollowupSequenceMutation);
  const [, replace] = useMutation<ReplaceData, ReplaceFollowupSequenceMutationVariables>(ReplaceFollowupSequenceMutation);
  const local = sequenceProblems(draft);
  const problems: Problems = { ...server, ...(touched ? local : {}) };
  const set = (patch: Partial<SequenceDraft>) => { setDraft((d) => ({ ...d, ...patch })); setServer({}); };
  const setStep = (i: number, patch: Partial<StepDraft>) => set({ steps: draft.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  // Problems shown next to their field; the rest (the step count, unknown fields) below the form.
  const inPlace = (k: string) => {
    if (k === "name" || k === "trigger") return true;
    const m = /^steps\.(\d+)(\.(delay_minutes|message_hint|template_id))?$/.exec(k);
    return !!m && Number(m[1]) < draft.steps.length;
  };
  const general = Object.entries(problems).filter(([k]) => !inPlace(k)).map(([, v]) => v);

  async function save() {
    setTouched(true);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const input = toInput(draft) as FollowupSequenceInput;
      const r = sequence ? await replace({ id: sequence.id, input }) : await create({ input });
      const answer = r.data && ("replaceFollowupSequence" in r.data ? r.data.replaceFollowupSequence : r.data.createFollowupSequence);
      if (r.error) {
        toast.error(`Could not save: ${r.error.message}`);
      } else if (answer?.__typename === "LimitError") {
        setServer(serverProblems(answer.problems));
        toast.error(`Could not save: ${answer.message}`);
      } else {
        const failure = failureOf(answer, "FollowupSequence");
        if (failure) toast.error(`Could not save: ${failure}`);
        else {
          toast.success(sequence ? "Sequence saved." : "Sequence created.");
          onSaved();
        }
      }
    } finally {
      setBusy(false);
    }
  }

  const title = sequence ? (canEdit ? `Edit ${sequence.name}` : sequence.name) : "New follow-up sequence";
  return (
    <Drawer title={title} label={title} onClose={onClose}>
      <form className="col fu-form" style={{ gap: 12 }} onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <fieldset className="fu-fields" disabled={!canEdit}>
          <label className="field">Name
            <input className="input" value={draft.name} aria-invalid={problems.name ? true : undefined} onChange={(e) => set({ name: e.target.value })} />
          </label>
          <FieldError text={problems.name} />
          <label className="field">Trigger
            <select className="select" value={draft.trigger} onChange={(e) => set({ trigger: e.target.value })}>
              {TRIGGERS.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
            </select>
          </label>
          <div className="small muted">{TRIGGERS.find((t) => t.value === draft.trigger)?.help}</div>
          <FieldError text={problems.trigger} />
          <label className="row fu-check">
            <input type="checkbox" checked={draft.isActive} onChange={(e) => set({ isActive: e.target.checked })} />
            Active
          </label>
          <div className="small muted">One sequence per trigger is active: saving this one active deactivates the others of its trigger.</div>
          <h3 className="fu-steps-title">Steps ({draft.steps.length}/{MAX_STEPS})</h3>
          <ol className="fu-steps">
            {draft.steps.map((step, i) => (
              <StepEditor key={i} step={step} index={i} count={draft.steps.length} templates={templates} problems={problems} canEdit={canEdit}
                onChange={(patch) => setStep(i, patch)}
                onMove={(by) => set({ steps: moveStep(draft.steps, i, by) })}
                onRemove={() => set({ steps: draft.steps.filter((_, j) => j !== i) })} />
            ))}
          </ol>
          {canEdit ? (
            <Button type="button" disabled={draft.steps.length >= MAX_STEPS} onClick={() => set({ steps: [...draft.steps, emptyStep()] })} data-testid="followup-add-step">+ Step</Button>
          ) : null}
        </fieldset>
        {general.length ? <div className="form-error" role="alert">{general.join(" ")}</div> : null}
        {canEdit ? (
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button type="button" onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy} data-testid="followup-save">{sequence ? "Save" : "Create"}</Button>
          </div>
        ) : null}
      </form>
    </Drawer>
  );
}

/** The editor for an existing sequence, opened on a fresh copy (it is saved whole). */
function LoadedEditor({ id, canEdit, templates, onClose, onSaved }: {
  id: string; canEdit: boolean; templates: Template[]; onClose: () => void; onSaved: () => void;
}) {
  const toast = useToast();
  const [{ data, fetching, error }] = useQuery<SequenceData, FollowupSequenceQueryVariables>({ query: FollowupSequenceQuery, variables: { id }, requestPolicy: "network-only" });
  const gone = !fetching && !error && data && !data.followupSequence;
  useEffect(() => {
    if (error) toast.error(`Could not load the sequence: ${error.message}`);
    if (gone) {
      toast.error("This sequence no longer exists.");
      onSaved();
    }
  }, [error, gone, toast, onSaved]);
  if (data?.followupSequence) {
    return <SequenceEditor sequence={data.followupSequence} canEdit={canEdit} templates={templates} onClose={onClose} onSaved={onSaved} />;
  }
  return (
    <Drawer title="Follow-up sequence" label="Follow-up sequence" onClose={onClose}>
      {error ? <EmptyState icon="alert" title="Could not load the sequence">{error.message}</EmptyState> : <SkeletonLines lines={6} />}
    </Drawer>
  );
}

function Explainer() {
  return (
    <Card className="fu-explainer">
      <ul className="small">
        <li>Steps run in order; each waits its delay after the previous outbound message (1 minute to {formatDelay(MAX_DELAY_MINUTES)}). A reply from the lead, an opt-out or a person taking over stops it.</li>
        <li>Inside the 24-hour window the bot writes the nudge from the step's hint. Outside it WhatsApp allows only an approved template: the step sends the one chosen (if still approved), else an approved template whose purpose is follow-up, else it is skipped. The next step is scheduled either way.</li>
        <li>One sequence per trigger is active. How many nudges go out (per 24 hours, in total, the minimum gap) and the quiet hours are in <Link to="/settings/hours">Settings → Hours &amp; follow-ups</Link>.</li>
      </ul>
    </Card>
  );
}

export default function FollowupsPage() {
  const toast = useToast();
  const { can } = useSession();
  const admin = can("ADMIN");
  const [{ data, fetching, error }, refetch] = useQuery<SequencesData>({ query: FollowupSequencesQuery, requestPolicy: "cache-and-network" });
  const [templatesResult] = useQuery<TemplatesData>({ query: FollowupTemplatesQuery, requestPolicy: "cache-and-network" });
  const [, remove] = useMutation<DeleteData, DeleteFollowupSequenceMutationVariables>(DeleteFollowupSequenceMutation);
  const [editing, setEditing] = useState<Sequence | "new" | null>(null);
  const [deleting, setDeleting] = useState<Sequence | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (error) toast.error(`Could not load follow-up sequences: ${error.message}`);
  }, [error, toast]);
  const reload = useCallback(() => refetch({ requestPolicy: "network-only" }), [refetch]);
  const closeEditor = useCallback(() => setEditing(null), []);
  const savedEditor = useCallback(() => { setEditing(null); reload(); }, [reload]);
  const rows = data?.followupSequences ?? [];
  const templates = (templatesResult.data?.templates ?? []).filter((t) => t.status === "APPROVED");
  const templateName = (id: string | null) => (id ? templates.find((t) => t.id === id)?.name ?? "a template" : null);

  return (
    <div className="page">
      <div className="page-head">
        <h1 className="grow">Follow-ups</h1>
        {admin ? <Button variant="primary" onClick={() => setEditing("new")} data-testid="followup-new">New sequence</Button> : null}
      </div>
      <Explainer />
      <Card pad={false}>
        {fetching && !data ? (
          <div className="card-pad col">{Array.from({ length: 3 }, (_, i) => <Skeleton key={i} height={28} />)}</div>
        ) : error && !data ? (
          <EmptyState icon="alert" title="Could not load follow-up sequences">{error.message} <Button size="sm" onClick={reload}>Retry</Button></EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState icon="clock" title="No follow-up sequences yet">
            A sequence nudges a lead who has gone quiet: a few steps, each some time after the last message.
            {admin ? <div style={{ marginTop: 8 }}><Button size="sm" variant="primary" onClick={() => setEditing("new")}>Create one</Button></div> : null}
          </EmptyState>
        ) : (
          <ul className="fu-list" data-testid="followups-list">
            {rows.map((s) => (
              <li key={s.id} className="fu-row" data-testid="followup-row">
                <div className="grow">
                  <div className="row" style={{ flexWrap: "wrap" }}>
                    <strong>{s.name}</strong>
                    <Badge tone={s.isActive ? "ok" : undefined}>{s.isActive ? "Active" : "Inactive"}</Badge>
                    <Badge tone="info">{triggerLabel(s.trigger)}</Badge>
                  </div>
                  <ol className="fu-summary small muted">
                    {s.steps.map((step) => (
                      <li key={step.position} data-testid="followup-row-step">
                        after {formatDelay(step.delayMinutes)}{step.messageHint ? `: ${step.messageHint}` : ""}
                        {templateName(step.templateId) ? ` (template ${templateName(step.templateId)})` : ""}
                      </li>
                    ))}
                  </ol>
                  <div className="small muted">Updated {relativeTime(s.updatedAt)}</div>
                </div>
                <div className="row fu-actions">
                  {admin ? (
                    <>
                      <Button size="sm" onClick={() => setEditing(s)}>Edit</Button>
                      <Button size="sm" variant="ghost" onClick={() => setDeleting(s)}>Delete</Button>
                    </>
                  ) : (
                    <Button size="sm" onClick={() => setEditing(s)}>View</Button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
      {editing ? (
        editing === "new" ? (
          <SequenceEditor sequence={null} canEdit={admin} templates={templates} onClose={closeEditor} onSaved={savedEditor} />
        ) : (
          <LoadedEditor key={editing.id} id={editing.id} canEdit={admin} templates={templates} onClose={closeEditor} onSaved={savedEditor} />
        )
      ) : null}
      {deleting ? (
        <Modal title={`Delete ${deleting.name}?`} onClose={() => setDeleting(null)}>
          <p>Nudges it has already scheduled are skipped when they come due.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" busy={busy} data-testid="followup-delete-confirm" onClick={async () => {
              setBusy(true);
              try {
                const r = await remove({ id: deleting.id });
                const failure = r.error ? r.error.message : failureOf(r.data?.deleteFollowupSequence, "Deleted");
                if (failure) toast.error(failure);
                else toast.success("Sequence deleted.");
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
