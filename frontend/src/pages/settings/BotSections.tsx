// Profile and bot behaviour (GraphQL updateSettings), and the parts GraphQL does not carry yet:
// business and quiet hours, the follow-up policy and the LLM models (REST PATCH /settings).
import { useEffect, useMemo, useState } from "react";
import { useMutation } from "urql";
import { Button } from "../../components/ui";
import { useToast } from "../../components/toast";
import type { SettingsInput, SettingsPageQuery as SettingsData, UpdateSettingsMutation as UpdateData, UpdateSettingsMutationVariables } from "../../gql/generated";
import { api } from "../../lib/auth";
import { failureOf } from "../../lib/results";
import { changed, DAY_LABELS, fromRows, hoursProblems, LLM_STAGES, quietProblem, toRows, type BusinessHours, type DayRow, type TimeRange } from "../../lib/settingsForm";
import { Section, Toggle } from "./common";
import { UpdateSettingsMutation } from "./operations";

type Settings = SettingsData["settings"];

export interface RestSettings {
  business_hours: BusinessHours;
  quiet_hours: TimeRange | null;
  followup_policy: { max_per_24h: number; max_total: number; min_gap_minutes: number } | null;
  llm_models: Record<string, string>;
  allowed_link_domains: string[];
}

function useSave(onSaved: () => void) {
  const toast = useToast();
  const [, update] = useMutation<UpdateData, UpdateSettingsMutationVariables>(UpdateSettingsMutation);
  const [busy, setBusy] = useState(false);
  async function save(input: SettingsInput) {
    if (!Object.keys(input).length) return;
    setBusy(true);
    try {
      const r = await update({ input });
      const failure = r.error ? r.error.message : failureOf(r.data?.updateSettings, "Settings");
      if (failure) toast.error(`Could not save: ${failure}`);
      else {
        toast.success("Settings saved.");
        onSaved();
      }
    } finally {
      setBusy(false);
    }
  }
  return { save, busy };
}

export function ProfileSection({ settings, slug, canEdit, zones, onSaved }: { settings: Settings; slug: string; canEdit: boolean; zones: string[]; onSaved: () => void }) {
  const initial = useMemo(() => ({ name: settings.name, businessName: settings.businessName ?? "", businessDescription: settings.businessDescription ?? "", timezone: settings.timezone, defaultLanguage: settings.defaultLanguage }), [settings]);
  const [form, setForm] = useState(initial);
  useEffect(() => setForm(initial), [initial]);
  const { save, busy } = useSave(onSaved);
  const diff = changed(initial, form);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <Section title="Organisation" hint={`Workspace address: ${slug}`} canEdit={canEdit} busy={busy} dirty={Object.keys(diff).length > 0} onSave={() => void save(diff)} testid="settings-profile">
      <div className="settings-grid">
        <label className="field">Organisation name<input className="input" required value={form.name} onChange={(e) => set({ name: e.target.value })} /></label>
        <label className="field">Business name (what the bot calls you)<input className="input" value={form.businessName} onChange={(e) => set({ businessName: e.target.value })} /></label>
        <label className="field">Timezone
          <select className="select" value={form.timezone} onChange={(e) => set({ timezone: e.target.value })}>
            {(zones.includes(form.timezone) ? zones : [form.timezone, ...zones]).map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
        </label>
        <label className="field">Default language<input className="input" value={form.defaultLanguage} minLength={2} maxLength={16} onChange={(e) => set({ defaultLanguage: e.target.value })} /></label>
      </div>
      <label className="field">What the business does
        <textarea className="textarea" rows={3} value={form.businessDescription} maxLength={10000} onChange={(e) => set({ businessDescription: e.target.value })} />
      </label>
    </Section>
  );
}

export function BotSection({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const initial = useMemo(() => ({
    personaPrompt: settings.personaPrompt ?? "",
    flowPrompt: settings.flowPrompt ?? "",
    replyWordLimit: settings.replyWordLimit,
    pauseBotOnAttention: settings.pauseBotOnAttention,
    notifyCustomerOnHandoff: settings.notifyCustomerOnHandoff,
    autoReleaseMinutes: settings.autoReleaseMinutes,
  }), [settings]);
  const [form, setForm] = useState(initial);
  useEffect(() => setForm(initial), [initial]);
  const { save, busy } = useSave(onSaved);
  const diff = changed(initial, form);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <Section title="The bot" hint="How it speaks and what it steers towards. Changes apply to the next message." canEdit={canEdit} busy={busy} dirty={Object.keys(diff).length > 0} onSave={() => void save(diff)} testid="settings-bot">
      <label className="field">Persona prompt ({form.personaPrompt.length}/10000)
        <textarea className="textarea" rows={5} maxLength={10000} value={form.personaPrompt} onChange={(e) => set({ personaPrompt: e.target.value })} placeholder="You are Asha, the friendly host of Chai & Co…" />
      </label>
      <label className="field">Flow prompt ({form.flowPrompt.length}/20000)
        <textarea className="textarea" rows={6} maxLength={20000} value={form.flowPrompt} onChange={(e) => set({ flowPrompt: e.target.value })} placeholder="Greet, learn what they need, qualify, then offer a tasting." />
      </label>
      <div className="settings-grid">
        <label className="field">Reply word limit<input className="input" type="number" min={5} max={1000} value={form.replyWordLimit} onChange={(e) => set({ replyWordLimit: Number(e.target.value) })} /></label>
        <label className="field">Give back to the bot after (minutes)<input className="input" type="number" min={1} max={10080} value={form.autoReleaseMinutes} onChange={(e) => set({ autoReleaseMinutes: Number(e.target.value) })} /></label>
      </div>
      <Toggle label="Notify the customer on handoff" hint="Tell the customer a person will follow up when the bot hands the conversation over." checked={form.notifyCustomerOnHandoff} onChange={(v) => set({ notifyCustomerOnHandoff: v })} />
      <Toggle label="Pause the bot while a conversation needs attention" checked={form.pauseBotOnAttention} onChange={(v) => set({ pauseBotOnAttention: v })} />
    </Section>
  );
}

function useRestSave(onSaved: () => void) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  async function save(patch: Partial<RestSettings>) {
    setBusy(true);
    try {
      await api("/settings", { method: "PATCH", json: patch });
      toast.success("Settings saved.");
      onSaved();
    } catch (e) {
      toast.error(`Could not save: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }
  return { save, busy };
}

export function HoursSection({ rest, canEdit, timezone, onSaved }: { rest: RestSettings; canEdit: boolean; timezone: string; onSaved: () => void }) {
  const [rows, setRows] = useState<DayRow[]>(() => toRows(rest.business_hours));
  const [quietOn, setQuietOn] = useState(!!rest.quiet_hours);
  const [quiet, setQuiet] = useState<TimeRange>(rest.quiet_hours ?? { start: "21:00", end: "08:00" });
  useEffect(() => {
    setRows(toRows(rest.business_hours));
    setQuietOn(!!rest.quiet_hours);
    setQuiet(rest.quiet_hours ?? { start: "21:00", end: "08:00" });
  }, [rest]);
  const { save, busy } = useRestSave(onSaved);
  const problems = [...hoursProblems(rows), ...(quietOn ? [quietProblem(quiet)].filter((p): p is string => !!p) : [])];
  const setRow = (i: number, patch: Partial<DayRow>) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const setRange = (i: number, k: number, patch: Partial<TimeRange>) => setRow(i, { ranges: rows[i]!.ranges.map((x, j) => (j === k ? { ...x, ...patch } : x)) });
  return (
    <Section
      title="Business and quiet hours"
      hint={`In ${timezone}. Outside business hours the bot says when a person will be back; in quiet hours nothing proactive is sent.`}
      canEdit={canEdit}
      busy={busy}
      onSave={() => {
        if (problems.length) return;
        void save({ business_hours: fromRows(rows), quiet_hours: quietOn ? quiet : null });
      }}
      testid="settings-hours"
    >
      {rows.map((r, i) => (
        <div key={r.day} className="hours-row">
          <strong>{DAY_LABELS[r.day]}</strong>
          <label className="row small" style={{ gap: 4 }}><input type="checkbox" aria-label={`${DAY_LABELS[r.day]} is open`} checked={r.open} onChange={(e) => setRow(i, { open: e.target.checked })} />Open</label>
          <div className="hours-ranges">
            {r.open ? r.ranges.map((x, k) => (
              <span key={k} className="row" style={{ gap: 4 }}>
                <input className="input" type="time" aria-label={`${DAY_LABELS[r.day]} opens`} value={x.start} onChange={(e) => setRange(i, k, { start: e.target.value })} />
                –
                <input className="input" type="time" aria-label={`${DAY_LABELS[r.day]} closes`} value={x.end} onChange={(e) => setRange(i, k, { end: e.target.value })} />
                {canEdit && r.ranges.length > 1 ? <Button size="sm" variant="ghost" type="button" aria-label="Remove range" onClick={() => setRow(i, { ranges: r.ranges.filter((_, j) => j !== k) })}>×</Button> : null}
              </span>
            )) : <span className="small muted">Closed</span>}
            {canEdit && r.open && r.ranges.length < 4 ? <Button size="sm" variant="ghost" type="button" onClick={() => setRow(i, { ranges: [...r.ranges, { start: "14:00", end: "18:00" }] })}>+ Range</Button> : null}
          </div>
        </div>
      ))}
      <div className="hours-row">
        <strong>Quiet hours</strong>
        <label className="row small" style={{ gap: 4 }}><input type="checkbox" checked={quietOn} onChange={(e) => setQuietOn(e.target.checked)} />On</label>
        <div className="hours-ranges">
          {quietOn ? (
            <>
              <input className="input" type="time" aria-label="Quiet from" value={quiet.start} onChange={(e) => setQuiet({ ...quiet, start: e.target.value })} />–
              <input className="input" type="time" aria-label="Quiet until" value={quiet.end} onChange={(e) => setQuiet({ ...quiet, end: e.target.value })} />
            </>
          ) : <span className="small muted">None</span>}
        </div>
      </div>
      {problems.length ? <div className="form-error" role="alert">{problems.join(" ")}</div> : null}
    </Section>
  );
}

export function FollowupSection({ rest, canEdit, onSaved }: { rest: RestSettings; canEdit: boolean; onSaved: () => void }) {
  const initial = rest.followup_policy ?? { max_per_24h: 1, max_total: 3, min_gap_minutes: 1440 };
  const [on, setOn] = useState(!!rest.followup_policy);
  const [policy, setPolicy] = useState(initial);
  useEffect(() => {
    setOn(!!rest.followup_policy);
    setPolicy(rest.followup_policy ?? { max_per_24h: 1, max_total: 3, min_gap_minutes: 1440 });
  }, [rest]);
  const { save, busy } = useRestSave(onSaved);
  const bad = policy.max_per_24h < 0 || policy.max_per_24h > 10 || policy.max_total < 0 || policy.max_total > 50 || policy.min_gap_minutes < 1 || policy.min_gap_minutes > 10080;
  return (
    <Section
      title="Follow-ups"
      hint="When a lead goes quiet the bot follows up, inside the 24-hour window or with the template whose purpose is follow-up, within these limits."
      canEdit={canEdit}
      busy={busy}
      onSave={() => { if (!bad) void save({ followup_policy: on ? policy : null }); }}
      testid="settings-followups"
    >
      <Toggle label="Follow up with leads who go quiet" checked={on} onChange={setOn} />
      {on ? (
        <div className="settings-grid">
          <label className="field">At most per 24 hours (0–10)<input className="input" type="number" min={0} max={10} value={policy.max_per_24h} onChange={(e) => setPolicy({ ...policy, max_per_24h: Number(e.target.value) })} /></label>
          <label className="field">At most in total (0–50)<input className="input" type="number" min={0} max={50} value={policy.max_total} onChange={(e) => setPolicy({ ...policy, max_total: Number(e.target.value) })} /></label>
          <label className="field">Minutes between follow-ups<input className="input" type="number" min={1} max={10080} value={policy.min_gap_minutes} onChange={(e) => setPolicy({ ...policy, min_gap_minutes: Number(e.target.value) })} /></label>
        </div>
      ) : null}
      {bad ? <div className="form-error" role="alert">Keep each number within its range.</div> : null}
    </Section>
  );
}

export function ModelsSection({ rest, canEdit, onSaved }: { rest: RestSettings; canEdit: boolean; onSaved: () => void }) {
  const [models, setModels] = useState<Record<string, string>>(rest.llm_models ?? {});
  useEffect(() => setModels(rest.llm_models ?? {}), [rest]);
  const { save, busy } = useRestSave(onSaved);
  const labels: Record<string, string> = { eyes: "Eyes (reads the message)", brain: "Brain (decides)", mouth: "Mouth (writes the reply)", memory: "Memory (summarises)" };
  return (
    <Section
      title="LLM models"
      hint="One model per pipeline stage; empty uses the platform's default."
      canEdit={canEdit}
      busy={busy}
      onSave={() => {
        const cleaned = Object.fromEntries(Object.entries(models).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
        void save({ llm_models: cleaned });
      }}
      testid="settings-models"
    >
      <div className="settings-grid">
        {LLM_STAGES.map((s) => (
          <label key={s} className="field">{labels[s]}
            <input className="input mono" value={models[s] ?? ""} maxLength={100} placeholder="default" onChange={(e) => setModels({ ...models, [s]: e.target.value })} />
          </label>
        ))}
      </div>
    </Section>
  );
}
