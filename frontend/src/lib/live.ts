// Live updates: subscription events are hints to refetch, never the record itself.
import { useEffect, useRef } from "react";
import { onReconnect } from "./client";

/** A callback that runs at most once per `ms`, trailing (bursts of events collapse into one). */
export function useDebounced(fn: () => void, ms = 250): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef<number | null>(null);
  useEffect(() => () => {
    if (timer.current) window.clearTimeout(timer.current);
  }, []);
  const ref = useRef(() => {
    if (timer.current) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      fnRef.current();
    }, ms);
  });
  return ref.current;
}

/** How often a list showing something still in progress is refetched anyway: the events
 * connection may drop, and events sent while it was down are not replayed. */
export const SAFETY_REFRESH_MS = 10_000;

type Subscribe = (listener: () => void) => () => void;

/** Refetch whenever the events connection comes back (`reconnected`) and, while
 * `safetyIntervalMs` is set, every that many ms; returns what stops both. */
export function keepFresh(refetch: () => void, reconnected: Subscribe, safetyIntervalMs: number | null): () => void {
  const stopListening = reconnected(refetch);
  const timer = safetyIntervalMs === null ? null : setInterval(refetch, safetyIntervalMs);
  return () => {
    stopListening();
    if (timer !== null) clearInterval(timer);
  };
}

/** A list kept fresh where its events may have been missed: refetched on every reconnect of the
 * events socket, and every `safetyIntervalMs` while that is not null. */
export function useKeptFresh(refetch: () => void, safetyIntervalMs: number | null = null): void {
  const refetchRef = useRef(refetch);
  refetchRef.current = refetch;
  useEffect(() => keepFresh(() => refetchRef.current(), onReconnect, safetyIntervalMs), [safetyIntervalMs]);
}

/** True when a key press belongs to a text field, not to page shortcuts. */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

/** Merge a refreshed first page into a longer list: fresh rows first, the rest after, once each. */
export function mergeFirstPage<T extends { id: string }>(current: T[], fresh: T[]): T[] {
  const freshIds = new Set(fresh.map((x) => x.id));
  return [...fresh, ...current.filter((x) => !freshIds.has(x.id))];
}
