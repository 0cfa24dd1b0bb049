import { describe, expect, it } from "vitest";
import { needsRefetch, withLive } from "./knowledgeLive";

const docs = [
  { id: "a", title: "Menu", status: "PENDING", progress: 0 },
  { id: "b", title: "FAQ", status: "READY", progress: 100 },
];

describe("knowledge live updates", () => {
  it("lays the latest status and progress over the fetched documents", () => {
    const live = { a: { documentId: "a", status: "PROCESSING", progress: 40 } };
    expect(withLive(docs, live)).toEqual([
      { id: "a", title: "Menu", status: "PROCESSING", progress: 40 },
      { id: "b", title: "FAQ", status: "READY", progress: 100 },
    ]);
    expect(withLive(docs, {})).toEqual(docs);
  });
  it("refetches for a finished document or one the list does not have", () => {
    expect(needsRefetch(docs, { documentId: "a", status: "PROCESSING", progress: 40 })).toBe(false);
    expect(needsRefetch(docs, { documentId: "a", status: "READY", progress: 100 })).toBe(true);
    expect(needsRefetch(docs, { documentId: "a", status: "FAILED", progress: 40 })).toBe(true);
    expect(needsRefetch(docs, { documentId: "c", status: "PENDING", progress: 0 })).toBe(true);
  });
});
