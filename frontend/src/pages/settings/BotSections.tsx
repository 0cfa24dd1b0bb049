// Profile, bot behaviour, link domains, business and quiet hours, the follow-up policy and the
// LLM models: all read from the settings query and saved with GraphQL updateSettings.
import { useEffect, useState } from "react";
import { useMutation } from "urql";
import { Button } from "../../components/ui";
import { useToast } from "../../components/toast";
import type { SettingsInput, SettingsPageQuery as SettingsData, UpdateSettingsMutation as UpdateData, UpdateSettingsMutationVariables } from "../../gql/generated";
import { failureOf } from "../../lib/results";
import { changed, DAY_LABELS, domainProblems, fromRows, hoursFromList, hoursProblems, hoursToList, LLM_STAGES, modelsFromList, modelsToList, parseDomains, quietProblem, toRows, type DayRow, type TimeRange } from "../../lib/settingsForm";
import { Section, Toggle, useByValue } from "./common";
import { UpdateSettingsMutation } from "./operations";

type Settings = SettingsData["settings"];

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
  const initial = useByValue({ name: settings.name, businessName: settings.businessName ?? "", businessDescription: settings.businessDescription ?? "", timezone: settings.timezone, defaultLanguage: settings.defaultLanguage });
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
  const initial = useByValue({
    personaPrompt: settings.personaPrompt ?? "",
    flowPrompt: settings.flowPrompt ?? "",
    replyWordLimit: settings.replyWordLimit,
    pauseBotOnAttention: settings.pauseBotOnAttention,
    notifyCustomerOnHandoff: settings.notifyCustomerOnHandoff,
    autoReleaseMinutes: settings.autoReleaseMinutes,
  });
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

const QUIET_DEFAULT: TimeRange = { start: "21:00", end: "08:00" };

export function HoursSection({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const stored = useByValue({ businessHours: settings.businessHours, quietHours: settings.quietHours });
  const [rows, setRows] = useState<DayRow[]>(() => toRows(hoursFromList(stored.businessHours)));
  const [quietOn, setQuietOn] = useState(!!stored.quietHours);
  const [quiet, setQuiet] = useState<TimeRange>(stored.quietHours ? { start: stored.quietHours.start, end: stored.quietHours.end } : QUIET_DEFAULT);
  useEffect(() => {
    setRows(toRows(hoursFromList(stored.businessHours)));
    setQuietOn(!!stored.quietHours);
    setQuiet(stored.quietHours ? { start: stored.quietHours.start, end: stored.quietHours.end } : QUIET_DEFAULT);
  }, [stored]);
  const { save, busy } = useSave(onSaved);
  const timezone = settings.timezone;
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
        void save({ businessHours: hoursToList(fromRows(rows)), quietHours: quietOn ? quiet : null });
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

const POLICY_DEFAULT = { maxPer24h: 1, maxTotal: 3, minGapMinutes: 1440 };

export function FollowupSection({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const stored = useByValue(settings.followupPolicy);
  const policyOf = (p: typeof stored) => (p ? { maxPer24h: p.maxPer24h, maxTotal: p.maxTotal, minGapMinutes: p.minGapMinutes } : POLICY_DEFAULT);
  const [on, setOn] = useState(!!stored);
  const [policy, setPolicy] = useState(() => policyOf(stored));
  useEffect(() => {
    setOn(!!stored);
    setPolicy(policyOf(stored));
  }, [stored]);
  const { save, busy } = useSave(onSaved);
  const bad = policy.maxPer24h < 0 || policy.maxPer24h > 10 || policy.maxTotal < 0 || policy.maxTotal > 50 || policy.minGapMinutes < 1 || policy.minGapMinutes > 10080;
  return (
    <Section
      title="Follow-ups"
      hint="When a lead goes quiet the bot follows up, inside the 24-hour window or with the template whose purpose is follow-up, within these limits."
      canEdit={canEdit}
      busy={busy}
      onSave={() => { if (!bad) void save({ followupPolicy: on ? policy : null }); }}
      testid="settings-followups"
    >
      <Toggle label="Follow up with leads who go quiet" checked={on} onChange={setOn} />
      {on ? (
        <div className="settings-grid">
          <label className="field">At most per 24 hours (0–10)<input className="input" type="number" min={0} max={10} value={policy.maxPer24h} onChange={(e) => setPolicy({ ...policy, maxPer24h: Number(e.target.value) })} /></label>
          <label className="field">At most in total (0–50)<input className="input" type="number" min={0} max={50} value={policy.maxTotal} onChange={(e) => setPolicy({ ...policy, maxTotal: Number(e.target.value) })} /></label>
          <label className="field">Minutes between follow-ups<input className="input" type="number" min={1} max={10080} value={policy.minGapMinutes} onChange={(e) => setPolicy({ ...policy, minGapMinutes: Number(e.target.value) })} /></label>
        </div>
      ) : null}
      {bad ? <div className="form-error" role="alert">Keep each number within its range.</div> : null}
    </Section>
  );
}

export function ModelsSection({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const stored = useByValue(settings.llmModels);
  const [models, setModels] = useState<Record<string, string>>(() => modelsFromList(stored));
  useEffect(() => setModels(modelsFromList(stored)), [stored]);
  const { save, busy } = useSave(onSaved);
  const labels: Record<string, string> = { eyes: "Eyes (reads the message)", brain: "Brain (decides)", mouth: "Mouth (writes the reply)", memory: "Memory (summarises)" };
  return (
    <Section
      title="LLM models"
      hint="One model per pipeline stage; empty uses the platform's default."
      canEdit={canEdit}
      busy={busy}
      onSave={() => void save({ llmModels: modelsToList(models) })}
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

export function LinksSection({ settings, canEdit, onSaved }: { settings: Settings; canEdit: boolean; onSaved: () => void }) {
  const initial = settings.allowedLinkDomains.join("\n");
  const [text, setText] = useState(initial);
  useEffect(() => setText(initial), [initial]);
  const { save, busy } = useSave(onSaved);
  const domains = parseDomains(text);
  const problems = domainProblems(domains);
  return (
    <Section
      title="Links the bot may share"
      hint="Domains a reply may link to, one per line (example.com). Links to anything else are removed."
      canEdit={canEdit}
      busy={busy}
      dirty={JSON.stringify(domains) !== JSON.stringify(parseDomains(initial))}
      onSave={() => { if (!problems.length) void save({ allowedLinkDomains: domains }); }}
      testid="settings-links"
    >
      <label className="field">Allowed domains
        <textarea className="textarea mono" rows={4} value={text} onChange={(e) => setText(e.target.value)} placeholder="example.com" />
      </label>
      {problems.length ? <div className="form-error" role="alert">{problems.join(" ")}</div> : null}
    </Section>
  );
}
