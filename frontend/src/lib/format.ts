// Formatting shared by every page. Pure functions, unit-tested.

export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "";
  const then = new Date(iso);
  const seconds = Math.round((now.getTime() - then.getTime()) / 1000);
  if (seconds < 45) return "now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours}h`;
  const days = Math.round(hours / 24);
  if (days < 7) return `${days}d`;
  return then.toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

export function clockTime(iso: string | null | undefined): string {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function dayLabel(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  const startOf = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((startOf(now) - startOf(d)) / 86_400_000);
  if (diff === 0) return "Today";
  if (diff === 1) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", year: d.getFullYear() === now.getFullYear() ? undefined : "numeric" });
}

/** "2h 05m", "14m", "45s": a remaining or elapsed duration. */
export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, "0")}m`;
}

export function percent(value: number | null | undefined, digits = 0): string {
  if (value == null || Number.isNaN(value)) return "—";
  return `${(value * 100).toFixed(digits)}%`;
}

export function seconds(value: number | null | undefined): string {
  if (value == null) return "—";
  if (value < 60) return `${Math.round(value)}s`;
  if (value < 3600) return `${Math.round(value / 60)}m`;
  return `${(value / 3600).toFixed(1)}h`;
}

export function usd(value: number | null | undefined): string {
  if (value == null) return "—";
  if (value > 0 && value < 0.01) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(2)}`;
}

export function integer(value: number | null | undefined): string {
  return value == null ? "—" : value.toLocaleString();
}

/** A lead's display name: their WhatsApp name, else a masked number. */
export function leadName(lead: { name: string | null; waId: string | null } | null | undefined): string {
  if (!lead) return "Unknown customer";
  if (lead.name) return lead.name;
  if (lead.waId) return maskNumber(lead.waId);
  return "Unknown customer";
}

/** +91 98••• ••678: enough to tell customers apart, not the whole number. */
export function maskNumber(waId: string): string {
  const digits = waId.replace(/\D/g, "");
  if (digits.length <= 5) return `+${digits}`;
  return `+${digits.slice(0, 4)}••••${digits.slice(-3)}`;
}

const ACRONYMS = new Set(["cta", "ai", "llm", "url"]);

export function titleCase(value: string): string {
  if (ACRONYMS.has(value.toLowerCase())) return value.toUpperCase();
  const lower = value.replace(/_/g, " ").toLowerCase();
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}
