// The 24-hour customer-service window, from the composer's point of view: free text while it is
// open, an approved template (with its parameters) once it has closed.

export interface WindowState {
  open: boolean;
  /** Milliseconds until it closes (0 when closed or unknown). */
  remainingMs: number;
  /** Open, but closing within the hour: worth a warning. */
  closingSoon: boolean;
}

export function windowState(conversation: { windowOpen: boolean; windowExpiresAt: string | null }, now: number = Date.now()): WindowState {
  const expires = conversation.windowExpiresAt ? Date.parse(conversation.windowExpiresAt) : NaN;
  // The server's windowOpen is the truth at fetch time; the clock moves on while the page is open.
  const open = conversation.windowOpen && (Number.isNaN(expires) || expires > now);
  const remainingMs = open && !Number.isNaN(expires) ? expires - now : 0;
  return { open, remainingMs, closingSoon: open && remainingMs > 0 && remainingMs < 3_600_000 };
}

export type ComposerMode = "text" | "template" | "readonly";

export function composerMode(opts: { canEdit: boolean; conversationMode: "BOT" | "HUMAN" | "CLOSED"; optedOut: boolean; window: WindowState }): ComposerMode {
  if (!opts.canEdit || opts.optedOut || opts.conversationMode === "CLOSED") return "readonly";
  return opts.window.open ? "text" : "template";
}

/** Placeholders {{1}}..{{n}} (or {{name}}) in a template's components, in order, once each. */
export function templatePlaceholders(components: Array<Record<string, unknown>>): string[] {
  const seen: string[] = [];
  for (const component of components) {
    const text = typeof component.text === "string" ? component.text : "";
    for (const match of text.matchAll(/\{\{\s*([\w]+)\s*\}\}/g)) {
      const name = match[1]!;
      if (!seen.includes(name)) seen.push(name);
    }
  }
  return seen;
}

/** The template's body with the parameters filled in, for the preview. */
export function renderTemplate(components: Array<Record<string, unknown>>, params: string[]): string {
  const names = templatePlaceholders(components);
  const parts = components
    .filter((c) => typeof c.text === "string" && String(c.type ?? "").toUpperCase() !== "BUTTONS")
    .map((c) => String(c.text));
  return parts
    .join("\n\n")
    .replace(/\{\{\s*([\w]+)\s*\}\}/g, (_, name: string) => {
      const value = params[names.indexOf(name)];
      return value ? value : `{{${name}}}`;
    });
}

/** Every placeholder filled with something other than blanks. */
export function parametersComplete(components: Array<Record<string, unknown>>, params: string[]): boolean {
  return templatePlaceholders(components).every((_, i) => (params[i] ?? "").trim().length > 0);
}
