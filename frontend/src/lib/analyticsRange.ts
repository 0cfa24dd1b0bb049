// Analytics date ranges: presets and validation. Per-day figures (messages, LLM tokens and
// cost) come from the API's series, already in the range's timezone.

/** yyyy-mm-dd of a local date. */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function parse(day: string): Date {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y!, m! - 1, d!);
}

export function addDays(day: string, n: number): string {
  const d = parse(day);
  d.setDate(d.getDate() + n);
  return isoDay(d);
}

/** Whole days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((parse(to).getTime() - parse(from).getTime()) / 86_400_000) + 1;
}

/** Today's date in an IANA timezone (the browser's when none or an unknown one is given). */
export function todayIn(timezone: string | null | undefined, now: Date = new Date()): Date {
  if (!timezone) return now;
  try {
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
    return parse(parts);
  } catch {
    return now;
  }
}

/** The last `days` days ending today. */
export function lastDays(days: number, today: Date = new Date()): { dateFrom: string; dateTo: string } {
  const dateTo = isoDay(today);
  return { dateFrom: addDays(dateTo, -(days - 1)), dateTo };
}

export function rangeProblem(from: string, to: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to)) return "Choose both dates.";
  if (from > to) return "The start is after the end.";
  if (daysBetween(from, to) > 366) return "At most a year at a time.";
  return null;
}

/** A share of a count (0 when the whole is 0). */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
