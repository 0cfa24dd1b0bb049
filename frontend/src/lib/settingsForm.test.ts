import { describe, expect, it } from "vitest";
import { changed, fromRows, hoursProblems, maskedSecret, quietProblem, secretToSend, toRows } from "./settingsForm";

describe("business hours", () => {
  it("round-trips the API's shape, closed days as empty lists", () => {
    const rows = toRows({ mon: [{ start: "09:00", end: "13:00" }, { start: "14:00", end: "18:00" }] });
    expect(rows).toHaveLength(7);
    expect(rows[0]!.open).toBe(true);
    expect(rows[1]!.open).toBe(false);
    const back = fromRows(rows);
    expect(back.mon).toEqual([{ start: "09:00", end: "13:00" }, { start: "14:00", end: "18:00" }]);
    expect(back.tue).toEqual([]);
  });
  it("finds bad times, reversed ranges and overlaps on open days only", () => {
    const rows = toRows({ mon: [{ start: "9:00", end: "18:00" }], tue: [{ start: "18:00", end: "09:00" }], wed: [{ start: "09:00", end: "13:00" }, { start: "12:00", end: "18:00" }] });
    const problems = hoursProblems(rows);
    expect(problems.some((p) => p.startsWith("Monday"))).toBe(true);
    expect(problems.some((p) => p.startsWith("Tuesday"))).toBe(true);
    expect(problems).toContain("Wednesday: ranges overlap.");
    rows[0]!.open = false;
    rows[1]!.open = false;
    rows[2]!.open = false;
    expect(hoursProblems(rows)).toEqual([]);
  });
  it("lets quiet hours cross midnight", () => {
    expect(quietProblem({ start: "22:00", end: "07:00" })).toBeNull();
    expect(quietProblem({ start: "22:00", end: "22:00" })).not.toBeNull();
    expect(quietProblem({ start: "25:00", end: "07:00" })).not.toBeNull();
    expect(quietProblem(null)).toBeNull();
  });
});

describe("patches and secrets", () => {
  it("sends only what changed", () => {
    expect(changed({ a: 1, b: "x", c: { d: 1 } }, { a: 1, b: "y", c: { d: 1 } })).toEqual({ b: "y" });
    expect(changed({ a: null }, { a: "" as string | null })).toEqual({ a: "" });
  });
  it("never sends a blank secret and shows only the last four", () => {
    expect(secretToSend("   ")).toBeUndefined();
    expect(secretToSend(" abc12345 ")).toBe("abc12345");
    expect(maskedSecret("9f3a")).toBe("•••• 9f3a");
    expect(maskedSecret("")).toBe("not set");
  });
});
