// What the API refuses in a follow-up sequence, checked in the editor first: a name, 1–10 steps,
// each a delay of 1 minute to 30 days after the previous outbound message and a hint of at most
// 1000 characters. Problems are keyed like the server's LimitError fields ("steps.0.delay_minutes"),
// so the editor shows both next to the same field.

export const MAX_STEPS = 10;
export const MIN_STEPS = 1;
export const MAX_DELAY_MINUTES = 30 * 24 * 60;
export const HINT_MAX = 1000;
export const NAME_MAX = 255;

export type DelayUnit = "minutes" | "hours" | "days";
export const UNIT_MINUTES: Record<DelayUnit, number> = { minutes: 1, hours: 60, days: 24 * 60 };

export interface StepDraft {
  /** As typed (a whole number, in `unit`). */
  delay: string;
  unit: DelayUnit;
  messageHint: string;
  /** "" for none. */
  templateId: string;
}

export interface SequenceDraft {
  name: string;
  trigger: string;
  isActive: boolean;
  steps: StepDraft[];
}

/** Field → message (the field "" is the sequence as a whole). */
export type Problems = Record<string, string>;

/** A step's delay in minutes, or null when it is not a whole number. */
export function delayMinutes(step: Pick<StepDraft, "delay" | "unit">): number | null {
  const text = step.delay.trim();
  if (!/^\d+$/.test(text)) return null;
  return Number(text) * UNIT_MINUTES[step.unit];
}

/** Minutes as the largest unit that divides them exactly (1440 → 1 day, 90 → 90 minutes). */
export function splitDelay(minutes: number): { delay: string; unit: DelayUnit } {
  if (minutes > 0 && minutes % UNIT_MINUTES.days === 0) return { delay: String(minutes / UNIT_MINUTES.days), unit: "days" };
  if (minutes > 0 && minutes % UNIT_MINUTES.hours === 0) return { delay: String(minutes / UNIT_MINUTES.hours), unit: "hours" };
  return { delay: String(minutes), unit: "minutes" };
}

/** "1 day 2 hours", "45 minutes". */
export function formatDelay(minutes: number): string {
  const parts: string[] = [];
  const days = Math.floor(minutes / UNIT_MINUTES.days);
  const hours = Math.floor((minutes % UNIT_MINUTES.days) / UNIT_MINUTES.hours);
  const mins = minutes % UNIT_MINUTES.hours;
  if (days) parts.push(`${days} day${days === 1 ? "" : "s"}`);
  if (hours) parts.push(`${hours} hour${hours === 1 ? "" : "s"}`);
  if (mins || parts.length === 0) parts.push(`${mins} minute${mins === 1 ? "" : "s"}`);
  return parts.join(" ");
}

export function emptyStep(): StepDraft {
  return { delay: "1", unit: "days", messageHint: "", templateId: "" };
}

export function sequenceProblems(d: SequenceDraft): Problems {
  const problems: Problems = {};
  if (!d.name.trim()) problems.name = "A name is required.";
  else if (d.name.trim().length > NAME_MAX) problems.name = `The name is at most ${NAME_MAX} characters.`;
  if (d.steps.length < MIN_STEPS) problems.steps = "A sequence needs at least one step.";
  if (d.steps.length > MAX_STEPS) problems.steps = `A sequence has at most ${MAX_STEPS} steps.`;
  d.steps.forEach((step, i) => {
    const minutes = delayMinutes(step);
    if (minutes === null) problems[`steps.${i}.delay_minutes`] = "The delay is a whole number.";
    else if (minutes < 1) problems[`steps.${i}.delay_minutes`] = "The delay is at least 1 minute.";
    else if (minutes > MAX_DELAY_MINUTES) problems[`steps.${i}.delay_minutes`] = "The delay is at most 30 days.";
    if (step.messageHint.length > HINT_MAX) problems[`steps.${i}.message_hint`] = `The hint is at most ${HINT_MAX} characters.`;
  });
  return problems;
}

/** A server problem's field in the editor's keys: "steps[1].template_id" → "steps.1.template_id". */
export function fieldKey(field: string | null | undefined): string {
  if (!field) return "";
  return field.replace(/\[(\d+)\]/g, ".$1").replace(/^\./, "").replace(/^input\./, "");
}

/** Server problems (LimitError) keyed like `sequenceProblems`. */
export function serverProblems(problems: ReadonlyArray<{ field: string | null; message: string }>): Problems {
  const out: Problems = {};
  for (const p of problems) {
    const key = fieldKey(p.field);
    out[key] = out[key] ? `${out[key]} ${p.message}` : p.message;
  }
  return out;
}

/** The list with item `index` moved by `by` places (unchanged at the ends). */
export function moveStep<T>(steps: readonly T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (index < 0 || index >= steps.length || to < 0 || to >= steps.length) return [...steps];
  const next = [...steps];
  [next[index], next[to]] = [next[to]!, next[index]!];
  return next;
}

/** The API's input for a valid draft (trimmed, empty hints and templates as null). */
export function toInput(d: SequenceDraft) {
  return {
    name: d.name.trim(),
    trigger: d.trigger,
    isActive: d.isActive,
    steps: d.steps.map((s) => ({
      delayMinutes: delayMinutes(s) ?? 0,
      messageHint: s.messageHint.trim() || null,
      templateId: s.templateId || null,
    })),
  };
}
