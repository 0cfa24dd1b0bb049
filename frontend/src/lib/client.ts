// urql over HTTP for queries and mutations, graphql-ws (graphql-transport-ws) for subscriptions.
// Credentials: the bearer header on HTTP, the connection_init payload on the socket (never the URL).
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { authedFetch, freshTokens } from "./auth";
import { resubscribing } from "./resubscribe";

let ws: WsClient | null = null;
type ConnectionListener = (connected: boolean) => void;
const connectionListeners = new Set<ConnectionListener>();
let reconnectListeners = new Set<() => void>();

let lastConnected: boolean | null = null;

export function onConnection(listener: ConnectionListener): () => void {
  connectionListeners.add(listener);
  if (lastConnected !== null) listener(lastConnected);
  return () => connectionListeners.delete(listener);
}

/** Called after the socket comes back: events are refetch hints, so refetch what is on screen. */
export function onReconnect(listener: () => void): () => void {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss" : "ws"}://${host}/graphql`;
}

function socket(): WsClient {
  if (ws) return ws;
  let connectedOnce = false;
  ws = createWsClient({
    url: wsUrl(),
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: async () => {
      // Shares the refresh with HTTP requests and other tabs (see auth.ts).
      const tokens = await freshTokens();
      return tokens ? { authorization: `Bearer ${tokens.accessToken}` } : {};
    },
    on: {
      connected: () => {
        lastConnected = true;
        connectionListeners.forEach((l) => l(true));
        if (connectedOnce) reconnectListeners.forEach((l) => l());
        connectedOnce = true;
      },
      closed: () => {
        lastConnected = false;
        connectionListeners.forEach((l) => l(false));
      },
    },
  });
  return ws;
}

export function resetSocket(): void {
  ws?.dispose();
  ws = null;
  lastConnected = null;
  reconnectListeners = new Set();
}

export function createClient(): Client {
  return new Client({
    url: "/graphql",
    // Lists change under live events; the document cache would show stale pages.
    requestPolicy: "cache-and-network",
    fetch: (input, init) => authedFetch(String(input), init ?? {}),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              // Survives the socket closes graphql-ws will not retry (see resubscribe.ts).
              const unsubscribe = resubscribing((inner) => socket().subscribe(input, inner), sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
