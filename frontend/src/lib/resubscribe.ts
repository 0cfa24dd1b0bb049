// graphql-ws retries a dropped socket on its own, except after close codes it deems fatal
// (1002–1011 such as 1011 "internal error", and 4400/4401/4500…). Then every subscription's sink
// gets the close event as an error and ends: the dashboard would say "Reconnecting" forever and
// stop updating. Here a subscription that ends that way starts again after a backoff (the socket
// reconnects lazily for it, and `onReconnect` listeners refetch what was missed); an error that
// belongs to the subscription itself (GraphQL errors) still reaches the caller.

export interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

export type SubscribeOnce<T> = (sink: Sink<T>) => () => void;

/** Whether `error` is the socket closing (a CloseEvent or alike), not a GraphQL error. */
export function isSocketClose(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && typeof (error as { code: unknown }).code === "number" && "reason" in error;
}

export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** attempt);
}

export function resubscribing<T>(
  subscribeOnce: SubscribeOnce<T>,
  sink: Sink<T>,
  schedule: (run: () => void, ms: number) => void = (run, ms) => void setTimeout(run, ms),
): () => void {
  let stopped = false;
  let attempt = 0;
  let unsubscribe: () => void = () => undefined;
  const start = () => {
    unsubscribe = subscribeOnce({
      next: (value) => {
        attempt = 0;
        sink.next(value);
      },
      complete: () => {
        if (!stopped) sink.complete();
      },
      error: (error) => {
        if (stopped) return;
        if (!isSocketClose(error)) {
          sink.error(error);
          return;
        }
        schedule(() => {
          if (!stopped) start();
        }, backoffMs(attempt++));
      },
    });
  };
  start();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
