// The composer's "/" shortcut: which quick replies match what follows the slash, and what the
// text becomes when one is chosen.

export interface QuickReply {
  id: string;
  title: string;
  text: string;
}

/** A "/" the caret is in: at the start of the text or after whitespace, with no line break
 * between it and the caret. `query` is what was typed after it. */
export interface SlashToken {
  start: number;
  query: string;
}

export function slashToken(value: string, caret: number): SlashToken | null {
  const before = value.slice(0, caret);
  const start = before.lastIndexOf("/");
  if (start < 0) return null;
  if (start > 0 && !/\s/.test(before[start - 1]!)) return null;
  const query = before.slice(start + 1);
  if (query.includes("\n")) return null;
  return { start, query };
}

/** Replies matching `query` (case-insensitive): titles starting with it first, then titles
 * containing it, then texts containing it; alphabetical within each group. */
export function matchQuickReplies(replies: readonly QuickReply[], query: string): QuickReply[] {
  const q = query.trim().toLowerCase();
  const rank = (r: QuickReply): number => {
    if (!q) return 0;
    const title = r.title.toLowerCase();
    if (title.startsWith(q)) return 0;
    if (title.includes(q)) return 1;
    if (r.text.toLowerCase().includes(q)) return 2;
    return -1;
  };
  return replies
    .map((r) => ({ r, rank: rank(r) }))
    .filter((x) => x.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.r.title.localeCompare(b.r.title))
    .map((x) => x.r);
}

/** The text with the slash and its query replaced by `reply`, and where the caret goes. */
export function insertQuickReply(value: string, caret: number, token: SlashToken, reply: string): { value: string; caret: number } {
  const next = value.slice(0, token.start) + reply + value.slice(caret);
  return { value: next, caret: token.start + reply.length };
}
