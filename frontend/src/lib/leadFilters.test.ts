import { describe, expect, it } from "vitest";
import { activeCount, dayStart, EMPTY_FILTERS, filenameFrom, toExportQuery, toGraphQL } from "./leadFilters";

describe("lead filters", () => {
  it("leaves out what is not set", () => {
    expect(toGraphQL(EMPTY_FILTERS)).toEqual({});
    expect(toExportQuery(EMPTY_FILTERS)).toBe("");
    expect(activeCount(EMPTY_FILTERS)).toBe(0);
  });
  it("maps every filter to GraphQL", () => {
    const f = { ...EMPTY_FILTERS, stage: "PRICING", intentLevel: "HIGH", sentiment: "POSITIVE", tag: " vip ", optedOut: "no" as const, search: " ana " };
    expect(toGraphQL(f)).toEqual({ stage: "PRICING", intentLevel: "HIGH", sentiment: "POSITIVE", tag: "vip", optedOut: false, search: "ana" });
    expect(activeCount(f)).toBe(6);
  });
  it("makes the date range whole local days, upper bound exclusive", () => {
    const g = toGraphQL({ ...EMPTY_FILTERS, createdFrom: "2026-03-01", createdTo: "2026-03-01" });
    expect(new Date(g.createdTo!).getTime() - new Date(g.createdFrom!).getTime()).toBe(86_400_000);
    expect(g.createdFrom).toBe(dayStart("2026-03-01"));
  });
  it("writes the export's REST query in snake_case with lowercase enums", () => {
    const q = toExportQuery({ ...EMPTY_FILTERS, stage: "CTA", intentLevel: "VERY_HIGH", optedOut: "yes", search: "a b" });
    expect(q).toBe("?stage=cta&intent_level=very_high&opted_out=true&search=a+b");
  });
  it("reads the file name from Content-Disposition", () => {
    expect(filenameFrom('attachment; filename="leads-20260101.csv"', "x.csv")).toBe("leads-20260101.csv");
    expect(filenameFrom(null, "x.csv")).toBe("x.csv");
  });
});
