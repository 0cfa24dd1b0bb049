// The inbox list: keyset pages from GraphQL, the first page refetched whenever a live event
// says something changed, older pages kept as they are below it.
import { useCallback, useEffect, useRef, useState } from "react";
import { useClient, useSubscription } from "urql";
import { ConversationUpdatedSubscription, InboxQuery, MessageCreatedSubscription, MessageStatusSubscription } from "../../gql/operations";
import type { ConversationFilter, InboxQuery as InboxData, InboxQueryVariables } from "../../gql/generated";
import { onReconnect } from "../../lib/client";
import { mergeFirstPage, useDebounced } from "../../lib/live";

export type ConversationRow = InboxData["conversations"]["edges"][number]["node"];
const PAGE = 50;

export function useConversations(filter: ConversationFilter) {
  const client = useClient();
  const [rows, setRows] = useState<ConversationRow[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const loadingMore = useRef(false);
  const generation = useRef(0);
  const filterKey = JSON.stringify(filter);

  const fetchPage = useCallback(
    async (after: string | null) => {
      const result = await client
        .query<InboxData, InboxQueryVariables>(InboxQuery, { first: PAGE, after, filter }, { requestPolicy: "network-only" })
        .toPromise();
      if (result.error) throw new Error(result.error.message.replace(/^\[\w+\]\s*/, ""));
      return result.data!.conversations;
    },
    // The filter by value: a new object with the same content is the same page.
    [client, filterKey],
  );

  // A new filter: start over.
  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    fetchPage(null)
      .then((page) => {
        if (mine !== generation.current) return;
        setRows(page.edges.map((e) => e.node));
        setCursor(page.pageInfo.endCursor);
        setHasMore(page.pageInfo.hasNextPage);
      })
      .catch((e: Error) => mine === generation.current && setError(e.message))
      .finally(() => mine === generation.current && setLoading(false));
  }, [fetchPage]);

  const refreshFirst = useCallback(() => {
    const mine = generation.current;
    fetchPage(null)
      .then((page) => {
        if (mine !== generation.current) return;
        const fresh = page.edges.map((e) => e.node);
        setRows((current) => {
          // Rows that no longer match the filter (say, attention resolved) drop out when they
          // were in the first page's span and did not come back.
          const last = fresh[fresh.length - 1];
          const span = last ? current.findIndex((r) => r.id === last.id) : -1;
          const kept = page.pageInfo.hasNextPage ? current.slice(span >= 0 ? span + 1 : current.length) : [];
          return mergeFirstPage(kept, fresh);
        });
        setError(null);
      })
      .catch(() => undefined);
  }, [fetchPage]);

  const refresh = useDebounced(refreshFirst, 300);

  const loadMore = useCallback(() => {
    if (!hasMore || loadingMore.current || !cursor) return;
    loadingMore.current = true;
    const mine = generation.current;
    fetchPage(cursor)
      .then((page) => {
        if (mine !== generation.current) return;
        setRows((current) => [...current, ...page.edges.map((e) => e.node).filter((n) => !current.some((c) => c.id === n.id))]);
        setCursor(page.pageInfo.endCursor);
        setHasMore(page.pageInfo.hasNextPage);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => {
        loadingMore.current = false;
      });
  }, [cursor, hasMore, fetchPage]);

  useSubscription({ query: ConversationUpdatedSubscription, variables: { conversationId: null } }, (_, event) => {
    refresh();
    return event;
  });
  useSubscription({ query: MessageCreatedSubscription, variables: { conversationId: null } }, (_, event) => {
    refresh();
    return event;
  });
  // Ticks on the last message of each row.
  useSubscription({ query: MessageStatusSubscription, variables: { conversationId: null } }, (_, event) => {
    refresh();
    return event;
  });
  useEffect(() => onReconnect(refresh), [refresh]);

  return { rows, loading, error, hasMore, loadMore, refresh: refreshFirst };
}
