// Live updates: subscription events are hints to refetch, never the record itself.
import { useEffect, useRef } from "react";

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
