import { describe, expect, it } from "vitest";
import { changed, domainProblems, fromRows, hoursFromList, hoursProblems, hoursToList, maskedSecret, modelsFromList, modelsToList, parseDomains, quietProblem, secretToSend, toRows } from "./settingsForm";

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

describe("GraphQL shapes", () => {
  it("reads the list of days into the form's map and sends every day back, Monday first", () => {
    const hours = hoursFromList([{ day: "tue", ranges: [{ start: "10:00", end: "13:00" }] }, { day: "someday", ranges: [] }, { day: "sun", ranges: [] }]);
    expect(hours).toEqual({ tue: [{ start: "10:00", end: "13:00" }], sun: [] });
    const list = hoursToList(fromRows(toRows(hours)));
    expect(list.map((d) => d.day)).toEqual(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    expect(list[0]!.ranges).toEqual([]);
    expect(list[1]!.ranges).toEqual([{ start: "10:00", end: "13:00" }]);
  });
  it("maps models by stage and leaves blanks to the default", () => {
    expect(modelsFromList([{ stage: "brain", model: "m-pro" }])).toEqual({ brain: "m-pro" });
    expect(modelsToList({ mouth: " m-small ", brain: "m-pro", eyes: "  " })).toEqual([{ stage: "brain", model: "m-pro" }, { stage: "mouth", model: "m-small" }]);
  });
  it("parses link domains and flags what the API refuses", () => {
    expect(parseDomains("Example.com\nhttps://shop.example.in/, example.com")).toEqual(["example.com", "shop.example.in"]);
    expect(domainProblems(["example.com"])).toEqual([]);
    expect(domainProblems(["example.com/path"])).toHaveLength(1);
    expect(domainProblems(Array.from({ length: 51 }, (_, i) => `d${i}.example.com`))).toEqual(["At most 50 domains."]);
  });
});
