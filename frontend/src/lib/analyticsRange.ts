// Analytics date ranges: presets, validation, and the buckets for the tokens-and-cost chart.
// The API's per-day series has no LLM figures, so the chart asks for the LLM usage of each
// bucket (a day, or a week for long ranges) in one GraphQL request built with aliases.

export const MAX_BUCKETS = 31;

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

export interface Bucket { dateFrom: string; dateTo: string; label: string }

/** Days, or runs of `size` days when the range has more than MAX_BUCKETS days. */
export function buckets(from: string, to: string): Bucket[] {
  const total = daysBetween(from, to);
  const size = total <= MAX_BUCKETS ? 1 : Math.ceil(total / MAX_BUCKETS);
  const out: Bucket[] = [];
  for (let start = from; start <= to; start = addDays(start, size)) {
    const end = addDays(start, size - 1) < to ? addDays(start, size - 1) : to;
    out.push({ dateFrom: start, dateTo: end, label: size === 1 ? start.slice(5) : `${start.slice(5)}…${end.slice(5)}` });
  }
  return out;
}

/** One query with an alias per bucket: `b0: analytics(...) { llm { ... } }`. */
export function usageQuery(list: Bucket[]): string {
  const fields = list.map((b, i) => `b${i}: analytics(dateFrom: "${b.dateFrom}", dateTo: "${b.dateTo}", timezone: $timezone) { llm { runs inputTokens outputTokens costUsd } }`);
  return `query AnalyticsUsageByBucket($timezone: String) { ${fields.join(" ")} }`;
}

/** A share of a count (0 when the whole is 0). */
export function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
