// Delivery ticks, as WhatsApp shows them: one grey for sent, two grey for delivered, two blue
// for read, a red mark with the reason for failed, a clock while the outbox has it.
import type { MessageStatus } from "../gql/generated";

export interface Tick {
  symbol: string;
  tone: "pending" | "sent" | "delivered" | "read" | "failed" | "none";
  label: string;
}

export function tickFor(message: {
  direction: "INBOUND" | "OUTBOUND";
  status: MessageStatus;
  errorCode?: number | null;
  errorTitle?: string | null;
}): Tick {
  if (message.direction === "INBOUND") return { symbol: "", tone: "none", label: "Received" };
  switch (message.status) {
    case "PENDING":
      return { symbol: "◷", tone: "pending", label: "Queued" };
    case "SENT":
      return { symbol: "✓", tone: "sent", label: "Sent" };
    case "DELIVERED":
      return { symbol: "✓✓", tone: "delivered", label: "Delivered" };
    case "READ":
      return { symbol: "✓✓", tone: "read", label: "Read" };
    case "FAILED":
      return { symbol: "!", tone: "failed", label: `Failed: ${failureReason(message)}` };
    default:
      return { symbol: "", tone: "none", label: "" };
  }
}

/** Meta's error title with its code, worded for an operator. */
export function failureReason(message: { errorCode?: number | null; errorTitle?: string | null }): string {
  const known: Record<number, string> = {
    131047: "the 24-hour window had closed",
    131026: "the number cannot receive this message",
    131051: "unsupported message type",
    130429: "rate limit reached",
    131056: "too many messages to this customer",
    132001: "template does not exist or is not approved",
    132015: "template paused",
    132016: "template disabled",
  };
  const code = message.errorCode ?? null;
  const text = message.errorTitle || (code != null ? known[code] : undefined) || "unknown error";
  return code != null ? `${text} (${code})` : text;
}
