// Knowledge ingestion, live: the latest knowledgeDocumentUpdated event per document, laid over
// the fetched list, so status and progress move without polling. Events are hints: the list is
// the record, and an event only ever moves a document that is still being ingested.

export interface DocumentUpdate<S extends string = string> { documentId: string; status: S; progress: number }
export type LiveUpdates<S extends string = string> = Readonly<Record<string, DocumentUpdate<S>>>;

/** Updates together with the list they were received over: a fresh list supersedes them. */
export interface LiveOverlay<S extends string = string> { over: unknown; updates: LiveUpdates<S> }

export const NO_OVERLAY: LiveOverlay<never> = { over: null, updates: {} };

/** Ready or failed: the document's chunk count or error come with the record, not the event. */
export function isFinished(status: string): boolean {
  return status === "READY" || status === "FAILED";
}

/** Whether any document is still pending or processing (an event about it may yet be lost). */
export function isIngesting(docs: ReadonlyArray<{ status: string }>): boolean {
  return docs.some((d) => !isFinished(d.status));
}

/** `overlay` with `update` received while `list` was on screen. A finished status is not laid
 * over the list (it would show "Ready" beside the old chunk count): the refetch it triggers
 * brings it. Updates received over an older list are dropped, as that list is. */
export function recordUpdate<S extends string>(overlay: LiveOverlay<S>, list: unknown, update: DocumentUpdate<S>): LiveOverlay<S> {
  const updates = overlay.over === list ? overlay.updates : {};
  if (isFinished(update.status)) return updates === overlay.updates ? overlay : { over: list, updates };
  return { over: list, updates: { ...updates, [update.documentId]: update } };
}

/** The documents with each one's latest live status and progress (none once the list is newer
 * than the overlay). */
export function withLive<T extends { id: string; status: string; progress: number }>(docs: readonly T[], overlay: LiveOverlay<T["status"]>): T[] {
  if (overlay.over !== docs) return [...docs];
  return docs.map((d) => {
    const update = overlay.updates[d.id];
    return update ? { ...d, status: update.status, progress: update.progress } : d;
  });
}

/** Whether the list must be fetched again for an update: a document it does not have yet (an
 * upload from another tab), or one that finished (its chunk count or error come with it). */
export function needsRefetch(docs: ReadonlyArray<{ id: string }>, update: DocumentUpdate): boolean {
  return isFinished(update.status) || !docs.some((d) => d.id === update.documentId);
}
