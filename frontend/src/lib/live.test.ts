import { describe, expect, it } from "vitest";
import { mergeFirstPage } from "./live";

describe("mergeFirstPage", () => {
  it("moves updated rows to the top and keeps older pages below, without duplicates", () => {
    const current = [{ id: "a", v: 1 }, { id: "b", v: 1 }, { id: "c", v: 1 }, { id: "d", v: 1 }];
    const fresh = [{ id: "c", v: 2 }, { id: "a", v: 2 }];
    expect(mergeFirstPage(current, fresh)).toEqual([
      { id: "c", v: 2 }, { id: "a", v: 2 }, { id: "b", v: 1 }, { id: "d", v: 1 },
    ]);
  });
});
