// The settings forms' logic: business hours between the API's shape ({"mon": [{start, end}]})
// and one row per day, HH:MM checks, and a patch of only the fields that changed.

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];
export const DAY_LABELS: Record<Day, string> = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };
export const LLM_STAGES = ["eyes", "brain", "mouth", "memory"] as const;

export interface TimeRange { start: string; end: string }
export type BusinessHours = Partial<Record<Day, TimeRange[]>>;
export interface DayRow { day: Day; open: boolean; ranges: TimeRange[] }

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function isHHMM(value: string): boolean {
  return HHMM.test(value);
}

export function toRows(hours: BusinessHours | null | undefined): DayRow[] {
  return DAYS.map((day) => {
    const ranges = hours?.[day] ?? [];
    return { day, open: ranges.length > 0, ranges: ranges.length ? ranges.map((r) => ({ ...r })) : [{ start: "09:00", end: "18:00" }] };
  });
}

export function fromRows(rows: DayRow[]): BusinessHours {
  const out: BusinessHours = {};
  for (const r of rows) out[r.day] = r.open ? r.ranges.map((x) => ({ start: x.start, end: x.end })) : [];
  return out;
}

/** GraphQL's list of days (`[{day, ranges}]`) as the form's map; unknown days are dropped. */
export function hoursFromList(list: ReadonlyArray<{ day: string; ranges: ReadonlyArray<TimeRange> }>): BusinessHours {
  const out: BusinessHours = {};
  for (const d of list) {
    if ((DAYS as readonly string[]).includes(d.day)) out[d.day as Day] = d.ranges.map((r) => ({ start: r.start, end: r.end }));
  }
  return out;
}

/** The form's map as GraphQL's list, Monday first; every day is sent (no ranges: closed). */
export function hoursToList(hours: BusinessHours): Array<{ day: Day; ranges: TimeRange[] }> {
  return DAYS.map((day) => ({ day, ranges: (hours[day] ?? []).map((r) => ({ start: r.start, end: r.end })) }));
}

/** GraphQL's `[{stage, model}]` as a map by stage. */
export function modelsFromList(list: ReadonlyArray<{ stage: string; model: string }>): Record<string, string> {
  return Object.fromEntries(list.map((m) => [m.stage, m.model]));
}

/** Models typed per stage as GraphQL's list: trimmed, blanks (the default) left out. */
export function modelsToList(models: Record<string, string>): Array<{ stage: string; model: string }> {
  return LLM_STAGES.map((stage) => ({ stage, model: (models[stage] ?? "").trim() })).filter((m) => m.model);
}

/** Domains typed one per line or separated by commas/spaces: lower-case, unique, in order. */
export function parseDomains(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(/[\s,]+/)) {
    const d = raw.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/+$/, "");
    if (d) seen.add(d);
  }
  return [...seen];
}

/** Domains the API refuses: anything with a path, a space or over 253 characters. */
export function domainProblems(domains: string[]): string[] {
  const bad = domains.filter((d) => d.includes("/") || d.length > 253);
  const problems = bad.length ? [`Bare domain names only: ${bad.join(", ")}.`] : [];
  if (domains.length > 50) problems.push("At most 50 domains.");
  return problems;
}

/** Problems with business hours: bad times, a range ending before it starts, overlaps. */
export function hoursProblems(rows: DayRow[]): string[] {
  const problems: string[] = [];
  for (const r of rows) {
    if (!r.open) continue;
    const label = DAY_LABELS[r.day];
    const sorted = [...r.ranges].sort((a, b) => a.start.localeCompare(b.start));
    for (const x of r.ranges) {
      if (!isHHMM(x.start) || !isHHMM(x.end)) problems.push(`${label}: times are HH:MM, 24-hour.`);
      else if (x.start >= x.end) problems.push(`${label}: ${x.start}–${x.end} ends before it starts.`);
    }
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.start < sorted[i - 1]!.end) problems.push(`${label}: ranges overlap.`);
    }
  }
  return [...new Set(problems)];
}

/** Quiet hours may cross midnight (22:00–07:00); only the format and a non-empty span are checked. */
export function quietProblem(range: TimeRange | null): string | null {
  if (!range) return null;
  if (!isHHMM(range.start) || !isHHMM(range.end)) return "Quiet hours are HH:MM, 24-hour.";
  if (range.start === range.end) return "Quiet hours start and end at different times.";
  return null;
}

/** The fields of `next` that differ from `current` (deep compare by JSON). */
export function changed<T extends Record<string, unknown>>(current: T, next: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(next) as Array<keyof T>) {
    if (JSON.stringify(current[key] ?? null) !== JSON.stringify(next[key] ?? null)) out[key] = next[key];
  }
  return out;
}

/** Whether a secret typed into a write-only field is worth sending (blank means "keep"). */
export function secretToSend(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed ? trimmed : undefined;
}

/** How a stored secret is shown: its last four characters only. */
export function maskedSecret(last4: string | null | undefined): string {
  return last4 ? `•••• ${last4}` : "not set";
}
