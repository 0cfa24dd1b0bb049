import { describe, expect, it } from "vitest";
import { failureReason, tickFor } from "./ticks";

describe("tickFor", () => {
  it("maps each outbound status to WhatsApp's ticks", () => {
    expect(tickFor({ direction: "OUTBOUND", status: "PENDING" }).tone).toBe("pending");
    expect(tickFor({ direction: "OUTBOUND", status: "SENT" })).toMatchObject({ symbol: "✓", label: "Sent" });
    expect(tickFor({ direction: "OUTBOUND", status: "DELIVERED" })).toMatchObject({ symbol: "✓✓", tone: "delivered" });
    expect(tickFor({ direction: "OUTBOUND", status: "READ" })).toMatchObject({ symbol: "✓✓", tone: "read" });
  });
  it("shows no tick on inbound messages", () => {
    expect(tickFor({ direction: "INBOUND", status: "RECEIVED" }).symbol).toBe("");
  });
  it("explains a failure with Meta's title and code", () => {
    const t = tickFor({ direction: "OUTBOUND", status: "FAILED", errorCode: 131026, errorTitle: "Message undeliverable" });
    expect(t.tone).toBe("failed");
    expect(t.label).toBe("Failed: Message undeliverable (131026)");
  });
});

describe("failureReason", () => {
  it("words known codes when Meta sent no title", () => {
    expect(failureReason({ errorCode: 131047 })).toBe("the 24-hour window had closed (131047)");
  });
  it("never comes back empty", () => {
    expect(failureReason({})).toBe("unknown error");
  });
});
