// Knowledge ingestion, live: the latest knowledgeDocumentUpdated event per document, laid over
// the fetched list, so status and progress move without polling.

export interface DocumentUpdate<S extends string = string> { documentId: string; status: S; progress: number }
export type LiveUpdates<S extends string = string> = Readonly<Record<string, DocumentUpdate<S>>>;

/** The documents with each one's latest live status and progress. */
export function withLive<S extends string, T extends { id: string; status: S; progress: number }>(docs: readonly T[], live: LiveUpdates<S>): T[] {
  return docs.map((d) => {
    const update = live[d.id];
    return update ? { ...d, status: update.status, progress: update.progress } : d;
  });
}

/** Whether the list must be fetched again for an update: a document it does not have yet (an
 * upload from another tab), or one that finished (its chunk count or error come with it). */
export function needsRefetch(docs: ReadonlyArray<{ id: string }>, update: DocumentUpdate): boolean {
  return update.status === "READY" || update.status === "FAILED" || !docs.some((d) => d.id === update.documentId);
}
