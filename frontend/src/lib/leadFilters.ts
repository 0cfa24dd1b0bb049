// The leads page's filters: one state object, turned into the GraphQL LeadFilter and into the
// REST query string of the CSV export (snake_case names, lowercase enum values).

export interface LeadFilterState {
  stage: string;
  intentLevel: string;
  sentiment: string;
  tag: string;
  optedOut: "" | "yes" | "no";
  /** yyyy-mm-dd, inclusive, in the browser's timezone. */
  createdFrom: string;
  /** yyyy-mm-dd, inclusive, in the browser's timezone. */
  createdTo: string;
  search: string;
}

export const EMPTY_FILTERS: LeadFilterState = {
  stage: "", intentLevel: "", sentiment: "", tag: "", optedOut: "", createdFrom: "", createdTo: "", search: "",
};

export interface GqlLeadFilter {
  stage?: string;
  intentLevel?: string;
  sentiment?: string;
  tag?: string;
  optedOut?: boolean;
  createdFrom?: string;
  createdTo?: string;
  search?: string;
}

/** Start of a local day as an ISO instant; `nextDay` gives the start of the following day. */
export function dayStart(day: string, nextDay = false): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y!, m! - 1, d! + (nextDay ? 1 : 0)).toISOString();
}

export function toGraphQL(f: LeadFilterState): GqlLeadFilter {
  const out: GqlLeadFilter = {};
  if (f.stage) out.stage = f.stage;
  if (f.intentLevel) out.intentLevel = f.intentLevel;
  if (f.sentiment) out.sentiment = f.sentiment;
  if (f.tag.trim()) out.tag = f.tag.trim();
  if (f.optedOut) out.optedOut = f.optedOut === "yes";
  if (f.createdFrom) out.createdFrom = dayStart(f.createdFrom);
  // The API's upper bound is exclusive: the day after the chosen one.
  if (f.createdTo) out.createdTo = dayStart(f.createdTo, true);
  if (f.search.trim()) out.search = f.search.trim();
  return out;
}

export function toExportQuery(f: LeadFilterState): string {
  const g = toGraphQL(f);
  const params = new URLSearchParams();
  if (g.stage) params.set("stage", g.stage.toLowerCase());
  if (g.intentLevel) params.set("intent_level", g.intentLevel.toLowerCase());
  if (g.sentiment) params.set("sentiment", g.sentiment.toLowerCase());
  if (g.tag) params.set("tag", g.tag);
  if (g.optedOut !== undefined) params.set("opted_out", String(g.optedOut));
  if (g.createdFrom) params.set("created_from", g.createdFrom);
  if (g.createdTo) params.set("created_to", g.createdTo);
  if (g.search) params.set("search", g.search);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** How many filters are set (for the "Clear" button). */
export function activeCount(f: LeadFilterState): number {
  return Object.values(toGraphQL(f)).length;
}

/** The file name from a Content-Disposition header, or a fallback. */
export function filenameFrom(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="?([^";]+)"?/i);
  return match?.[1] ?? fallback;
}
