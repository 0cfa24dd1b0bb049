// The template builder: Meta's limits checked as one types (lib/templateRules), a live preview.
import { useMemo, useState, type ReactNode } from "react";
import { useMutation } from "urql";
import { Badge, Button, Card } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  CreateTemplateMutation as CreateData, CreateTemplateMutationVariables,
  TemplateCreateInput, TemplateUpdateInput,
  UpdateTemplateMutation as UpdateData, UpdateTemplateMutationVariables,
} from "../../gql/generated";
import { titleCase } from "../../lib/format";
import { failureOf } from "../../lib/results";
import { EMPTY_DRAFT, fromComponents, LIMITS, placeholders, toContentInput, validate, type ButtonType, type TemplateDraft } from "../../lib/templateRules";
import { CreateTemplateMutation, UpdateTemplateMutation } from "./operations";
import { Preview } from "./Preview";
import { statusTone, type TemplateRow } from "./TemplatesPage";

const PURPOSES = ["FOLLOWUP", "REENGAGEMENT", "CTA", "HANDOFF", "CUSTOM"];

function Count({ value, max }: { value: string; max: number }) {
  return <span className={`tpl-count ${value.length > max ? "over" : ""}`}>{value.length}/{max}</span>;
}

function Problems({ list }: { list: string[] }) {
  return list.length ? <ul className="tpl-problems" role="alert">{list.map((m) => <li key={m}>{m}</li>)}</ul> : null;
}

function Field({ label, children, extra }: { label: string; children: ReactNode; extra?: ReactNode }) {
  return <label className="field"><span className="row">{label}<span className="grow" />{extra}</span>{children}</label>;
}

export function TemplateBuilder({ template, readOnly, onDone }: { template: TemplateRow | null; readOnly: boolean; onDone: () => void }) {
  const toast = useToast();
  const [draft, setDraft] = useState<TemplateDraft>(() =>
    template
      ? fromComponents({ name: template.name, language: template.language, category: template.category, parameterFormat: template.parameterFormat, purpose: template.purpose ?? "" }, template.components)
      : EMPTY_DRAFT,
  );
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [, create] = useMutation<CreateData, CreateTemplateMutationVariables>(CreateTemplateMutation);
  const [, update] = useMutation<UpdateData, UpdateTemplateMutationVariables>(UpdateTemplateMutation);
  const problems = useMemo(() => validate(draft), [draft]);
  const byField = (prefix: string) => (touched || readOnly ? problems.filter((p) => p.field.startsWith(prefix)).map((p) => p.message) : []);
  const names = placeholders(draft.body);
  const set = (patch: Partial<TemplateDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const setButton = (i: number, patch: Partial<TemplateDraft["buttons"][number]>) =>
    setDraft((d) => ({ ...d, buttons: d.buttons.map((b, j) => (j === i ? { ...b, ...patch } : b)) }));

  async function save() {
    setTouched(true);
    if (problems.length) return toast.error("Fix the problems shown before saving.");
    setBusy(true);
    try {
      const content = toContentInput(draft) as TemplateCreateInput["content"];
      const purpose = (draft.purpose || null) as TemplateCreateInput["purpose"];
      let failure: string | null;
      if (template) {
        const input: TemplateUpdateInput = { category: draft.category, parameterFormat: draft.parameterFormat, purpose, content };
        const r = await update({ id: template.id, input });
        failure = r.error ? r.error.message : failureOf(r.data?.updateTemplate, "Template");
      } else {
        const r = await create({ input: { name: draft.name, language: draft.language, category: draft.category, parameterFormat: draft.parameterFormat, purpose, content } });
        failure = r.error ? r.error.message : failureOf(r.data?.createTemplate, "Template");
      }
      if (failure) toast.error(`Could not save: ${failure}`);
      else {
        toast.success(template ? "Template saved." : "Draft created. Submit it to Meta from the list.");
        onDone();
      }
    } finally {
      setBusy(false);
    }
  }

  const disabled = readOnly;
  return (
    <div className="page">
      <div className="page-head">
        <Button variant="ghost" onClick={onDone}>← Templates</Button>
        <h1 className="grow">{template ? template.name : "New template"}</h1>
        {template ? <Badge tone={statusTone(template.status)}>{titleCase(template.status)}</Badge> : null}
      </div>
      {template?.rejectionReason ? <div className="form-error" style={{ marginBottom: 12 }}>Meta rejected it: {template.rejectionReason}. Edit it, save, then resubmit from the list.</div> : null}
      <div className="tpl-builder">
        <Card>
          <fieldset disabled={disabled} style={{ border: 0, padding: 0, margin: 0 }} className="form" data-testid="template-builder">
            <div className="grid3">
              <Field label="Name" extra={<Count value={draft.name} max={LIMITS.name} />}>
                <input className="input mono" value={draft.name} disabled={!!template || disabled} onChange={(e) => set({ name: e.target.value })} placeholder="visit_reminder" aria-label="Name" />
              </Field>
              <Field label="Language">
                <input className="input" value={draft.language} disabled={!!template || disabled} onChange={(e) => set({ language: e.target.value })} aria-label="Language" />
              </Field>
              <Field label="Category">
                <select className="select" value={draft.category} onChange={(e) => set({ category: e.target.value as TemplateDraft["category"] })}>
                  {["UTILITY", "MARKETING", "AUTHENTICATION"].map((c) => <option key={c} value={c}>{titleCase(c)}</option>)}
                </select>
              </Field>
              <Field label="Variables">
                <select className="select" value={draft.parameterFormat} onChange={(e) => set({ parameterFormat: e.target.value as TemplateDraft["parameterFormat"] })}>
                  <option value="POSITIONAL">Numbered {"{{1}}"}</option>
                  <option value="NAMED">Named {"{{first_name}}"}</option>
                </select>
              </Field>
              <Field label="Used by the bot for">
                <select className="select" value={draft.purpose} onChange={(e) => set({ purpose: e.target.value })}>
                  <option value="">Nothing (people only)</option>
                  {PURPOSES.map((p) => <option key={p} value={p}>{titleCase(p)}</option>)}
                </select>
              </Field>
            </div>
            <Problems list={[...byField("name"), ...byField("language")]} />
            <Field label="Header (optional)" extra={<Count value={draft.headerText} max={LIMITS.header} />}>
              <input className="input" value={draft.headerText} onChange={(e) => set({ headerText: e.target.value })} aria-label="Header" />
            </Field>
            {placeholders(draft.headerText).length === 1 ? (
              <Field label={`Example for the header's {{${placeholders(draft.headerText)[0]}}}`}>
                <input className="input" value={draft.headerExample} onChange={(e) => set({ headerExample: e.target.value })} />
              </Field>
            ) : null}
            <Problems list={byField("header")} />
            <Field label="Body" extra={<Count value={draft.body} max={LIMITS.body} />}>
              <textarea className="textarea" rows={6} value={draft.body} onChange={(e) => set({ body: e.target.value })} aria-label="Body" placeholder="Hi {{1}}, your visit is on {{2}}. Reply to reschedule." />
            </Field>
            {!disabled ? (
              <div className="row" style={{ gap: 6 }}>
                <Button size="sm" type="button" onClick={() => set({ body: `${draft.body}{{${draft.parameterFormat === "NAMED" ? "name" : names.length + 1}}}` })}>+ Variable</Button>
                <span className="small muted">Each variable needs an example for Meta's review.</span>
              </div>
            ) : null}
            {names.length ? (
              <div className="grid3">
                {names.map((n) => (
                  <Field key={n} label={`Example for {{${n}}}`}>
                    <input className="input" value={draft.bodyExamples[n] ?? ""} onChange={(e) => set({ bodyExamples: { ...draft.bodyExamples, [n]: e.target.value } })} aria-label={`Example for {{${n}}}`} />
                  </Field>
                ))}
              </div>
            ) : null}
            <Problems list={byField("body")} />
            <Field label="Footer (optional)" extra={<Count value={draft.footer} max={LIMITS.footer} />}>
              <input className="input" value={draft.footer} onChange={(e) => set({ footer: e.target.value })} aria-label="Footer" />
            </Field>
            <Problems list={byField("footer")} />
            <div className="col" style={{ gap: 6 }}>
              <div className="row"><strong className="grow">Buttons</strong><span className="tpl-count">{draft.buttons.length}/{LIMITS.buttons}</span></div>
              {draft.buttons.map((b, i) => (
                <div key={i} className="tpl-button-row">
                  <select className="select" value={b.type} aria-label={`Button ${i + 1} type`} onChange={(e) => setButton(i, { type: e.target.value as ButtonType })}>
                    <option value="QUICK_REPLY">Quick reply</option>
                    <option value="URL">Website</option>
                    <option value="PHONE_NUMBER">Call</option>
                  </select>
                  <input className="input" value={b.text} placeholder="Text" aria-label={`Button ${i + 1} text`} maxLength={60} onChange={(e) => setButton(i, { text: e.target.value })} />
                  {b.type === "URL" ? (
                    <input className="input" value={b.url} placeholder="https://…" aria-label={`Button ${i + 1} URL`} onChange={(e) => setButton(i, { url: e.target.value })} />
                  ) : b.type === "PHONE_NUMBER" ? (
                    <input className="input" value={b.phoneNumber} placeholder="+15550001111" aria-label={`Button ${i + 1} phone`} onChange={(e) => setButton(i, { phoneNumber: e.target.value })} />
                  ) : <span />}
                  {!disabled ? <Button size="sm" variant="ghost" type="button" aria-label={`Remove button ${i + 1}`} onClick={() => set({ buttons: draft.buttons.filter((_, j) => j !== i) })}>×</Button> : <span />}
                  {b.type === "URL" && placeholders(b.url).length ? (
                    <input className="input" style={{ gridColumn: "2 / 4" }} value={b.example} placeholder="Example full URL" aria-label={`Button ${i + 1} URL example`} onChange={(e) => setButton(i, { example: e.target.value })} />
                  ) : null}
                </div>
              ))}
              {!disabled ? (
                <div><Button size="sm" type="button" disabled={draft.buttons.length >= LIMITS.buttons} onClick={() => set({ buttons: [...draft.buttons, { type: "QUICK_REPLY", text: "", url: "", phoneNumber: "", example: "" }] })}>+ Button</Button></div>
              ) : null}
              <Problems list={byField("button")} />
            </div>
            {!disabled ? (
              <div className="row" style={{ gap: 8, justifyContent: "flex-end" }}>
                <Button type="button" onClick={onDone}>Cancel</Button>
                <Button type="button" variant="primary" busy={busy} onClick={save} data-testid="template-save">{template ? "Save changes" : "Create draft"}</Button>
              </div>
            ) : null}
          </fieldset>
        </Card>
        <div className="col tpl-sticky" style={{ gap: 8 }}>
          <strong>Preview</strong>
          <Preview draft={draft} />
          {!touched && !readOnly && problems.length ? <span className="small muted">{problems.length} thing{problems.length === 1 ? "" : "s"} to fix before saving.</span> : null}
        </div>
      </div>
    </div>
  );
}
