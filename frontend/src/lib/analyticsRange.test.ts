import { describe, expect, it } from "vitest";
import { todayIn, addDays, daysBetween, lastDays, rangeProblem, share } from "./analyticsRange";

describe("analytics ranges", () => {
  it("counts whole days, both ends included", () => {
    expect(daysBetween("2026-03-01", "2026-03-01")).toBe(1);
    expect(daysBetween("2026-02-27", "2026-03-02")).toBe(4);
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
  });
  it("gives the last n days ending today", () => {
    expect(lastDays(7, new Date(2026, 2, 10))).toEqual({ dateFrom: "2026-03-04", dateTo: "2026-03-10" });
  });
  it("knows today in another timezone", () => {
    const now = new Date(Date.UTC(2026, 10, 25, 16, 0));
    expect(lastDays(1, todayIn("Asia/Tokyo", now)).dateTo).toBe("2026-11-26");
    expect(lastDays(1, todayIn("America/Los_Angeles", now)).dateTo).toBe("2026-11-25");
  });
  it("checks a range", () => {
    expect(rangeProblem("2026-03-02", "2026-03-01")).toMatch(/after/);
    expect(rangeProblem("", "2026-03-01")).toMatch(/both/);
    expect(rangeProblem("2024-01-01", "2026-03-01")).toMatch(/year/);
    expect(rangeProblem("2026-03-01", "2026-03-31")).toBeNull();
  });
  it("computes shares", () => {
    expect(share(1, 4)).toBe(0.25);
    expect(share(1, 0)).toBeNull();
  });
});
