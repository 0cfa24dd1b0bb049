import { describe, expect, it } from "vitest";
import { isIngesting, needsRefetch, NO_OVERLAY, recordUpdate, withLive, type LiveOverlay } from "./knowledgeLive";

interface Doc { id: string; title: string; status: string; progress: number; chunkCount: number }
const docs: Doc[] = [
  { id: "a", title: "Menu", status: "PENDING", progress: 0, chunkCount: 0 },
  { id: "b", title: "FAQ", status: "READY", progress: 100, chunkCount: 7 },
];

describe("knowledge live updates", () => {
  it("lays the latest status and progress over the fetched documents", () => {
    let live: LiveOverlay = recordUpdate(NO_OVERLAY, docs, { documentId: "a", status: "PROCESSING", progress: 20 });
    live = recordUpdate(live, docs, { documentId: "a", status: "PROCESSING", progress: 40 });
    expect(withLive(docs, live)).toEqual([
      { id: "a", title: "Menu", status: "PROCESSING", progress: 40, chunkCount: 0 },
      docs[1],
    ]);
    expect(withLive(docs, NO_OVERLAY)).toEqual(docs);
  });

  it("never shows a finished status beside the old record: the refetch brings it", () => {
    let live: LiveOverlay = recordUpdate(NO_OVERLAY, docs, { documentId: "a", status: "PROCESSING", progress: 90 });
    live = recordUpdate(live, docs, { documentId: "a", status: "READY", progress: 100 });
    expect(withLive(docs, live)[0]).toMatchObject({ status: "PROCESSING", progress: 90, chunkCount: 0 });
    expect(needsRefetch(docs, { documentId: "a", status: "READY", progress: 100 })).toBe(true);
  });

  it("drops what was laid over an older list once a fresh one arrives", () => {
    const live = recordUpdate(NO_OVERLAY, docs, { documentId: "a", status: "PROCESSING", progress: 90 });
    const fresh: Doc[] = [{ ...docs[0], status: "READY", progress: 100, chunkCount: 3 }, docs[1]];
    expect(withLive(fresh, live)).toEqual(fresh);
    const next = recordUpdate(live, fresh, { documentId: "c", status: "PENDING", progress: 0 });
    expect(next.updates).toEqual({ c: { documentId: "c", status: "PENDING", progress: 0 } });
  });

  it("refetches for a finished document or one the list does not have", () => {
    expect(needsRefetch(docs, { documentId: "a", status: "PROCESSING", progress: 40 })).toBe(false);
    expect(needsRefetch(docs, { documentId: "a", status: "READY", progress: 100 })).toBe(true);
    expect(needsRefetch(docs, { documentId: "a", status: "FAILED", progress: 40 })).toBe(true);
    expect(needsRefetch(docs, { documentId: "c", status: "PENDING", progress: 0 })).toBe(true);
  });

  it("counts pending and processing documents as still being ingested", () => {
    expect(isIngesting(docs)).toBe(true);
    expect(isIngesting([{ status: "PROCESSING" }, { status: "FAILED" }])).toBe(true);
    expect(isIngesting([{ status: "READY" }, { status: "FAILED" }])).toBe(false);
    expect(isIngesting([])).toBe(false);
  });
});
