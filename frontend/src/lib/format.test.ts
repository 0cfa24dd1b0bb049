import { describe, expect, it } from "vitest";
import { duration, leadName, maskNumber, percent, relativeTime, seconds, titleCase, usd } from "./format";

const now = new Date("2026-01-10T12:00:00Z");

describe("format", () => {
  it("relativeTime", () => {
    expect(relativeTime("2026-01-10T11:59:50Z", now)).toBe("now");
    expect(relativeTime("2026-01-10T11:45:00Z", now)).toBe("15m");
    expect(relativeTime("2026-01-10T09:00:00Z", now)).toBe("3h");
    expect(relativeTime("2026-01-08T12:00:00Z", now)).toBe("2d");
    expect(relativeTime(null, now)).toBe("");
  });
  it("duration", () => {
    expect(duration(45_000)).toBe("45s");
    expect(duration(14 * 60_000)).toBe("14m");
    expect(duration(2 * 3_600_000 + 5 * 60_000)).toBe("2h 05m");
    expect(duration(-5)).toBe("0s");
  });
  it("numbers", () => {
    expect(percent(0.423)).toBe("42%");
    expect(percent(null)).toBe("—");
    expect(seconds(42)).toBe("42s");
    expect(seconds(600)).toBe("10m");
    expect(seconds(5400)).toBe("1.5h");
    expect(usd(0.00042)).toBe("$0.0004");
    expect(usd(3.5)).toBe("$3.50");
  });
  it("masks numbers and names leads", () => {
    expect(maskNumber("919812345678")).toBe("+9198••••678");
    expect(leadName({ name: "Asha", waId: "919812345678" })).toBe("Asha");
    expect(leadName({ name: null, waId: "919812345678" })).toBe("+9198••••678");
    expect(leadName(null)).toBe("Unknown customer");
  });
  it("titleCase", () => {
    expect(titleCase("VERY_HIGH")).toBe("Very high");
    expect(titleCase("cta")).toBe("CTA");
  });
});
