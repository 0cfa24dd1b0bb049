// The inbox's quick filters, as the GraphQL ConversationFilter they stand for.
import type { ConversationFilter } from "../../gql/generated";

export type QuickFilter = "all" | "attention" | "human" | "bot" | "mine" | "closed";
export const QUICK_FILTERS: Array<{ key: QuickFilter; label: string }> = [
  { key: "all", label: "All" },
  { key: "attention", label: "Needs attention" },
  { key: "human", label: "Human" },
  { key: "bot", label: "Bot" },
  { key: "mine", label: "Mine" },
  { key: "closed", label: "Closed" },
];

export function filterFor(quick: QuickFilter, search: string, me: string | null): ConversationFilter {
  const filter: ConversationFilter = {};
  if (quick === "attention") filter.needsAttention = true;
  if (quick === "human") filter.mode = "HUMAN";
  if (quick === "bot") filter.mode = "BOT";
  if (quick === "closed") filter.mode = "CLOSED";
  if (quick === "mine" && me) filter.assignedTo = me;
  if (search.trim()) filter.search = search.trim();
  return filter;
}

/** Sequences an operator may start on a conversation: the active ones, manual sequences first
 * (those never start on their own), then by name. */
export function startableSequences<T extends { name: string; trigger: string; isActive: boolean }>(all: readonly T[]): T[] {
  return all
    .filter((s) => s.isActive)
    .sort((a, b) => Number(b.trigger === "MANUAL") - Number(a.trigger === "MANUAL") || a.name.localeCompare(b.name));
}
