import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { keepFresh, mergeFirstPage } from "./live";

describe("mergeFirstPage", () => {
  it("moves updated rows to the top and keeps older pages below, without duplicates", () => {
    const current = [{ id: "a", v: 1 }, { id: "b", v: 1 }, { id: "c", v: 1 }, { id: "d", v: 1 }];
    const fresh = [{ id: "c", v: 2 }, { id: "a", v: 2 }];
    expect(mergeFirstPage(current, fresh)).toEqual([
      { id: "c", v: 2 }, { id: "a", v: 2 }, { id: "b", v: 1 }, { id: "d", v: 1 },
    ]);
  });
});

describe("keepFresh", () => {
  let listeners: Set<() => void>;
  const reconnected = (listener: () => void) => {
    listeners.add(listener);
    return () => { listeners.delete(listener); };
  };
  const reconnect = () => listeners.forEach((l) => l());
  beforeEach(() => {
    listeners = new Set();
    vi.useFakeTimers();
  });
  afterEach(() => { vi.useRealTimers(); });

  it("refetches each time the events connection comes back, and no more once stopped", () => {
    const refetch = vi.fn();
    const stop = keepFresh(refetch, reconnected, null);
    vi.advanceTimersByTime(60_000);
    expect(refetch).not.toHaveBeenCalled();
    reconnect();
    reconnect();
    expect(refetch).toHaveBeenCalledTimes(2);
    stop();
    reconnect();
    vi.advanceTimersByTime(60_000);
    expect(refetch).toHaveBeenCalledTimes(2);
    expect(listeners.size).toBe(0);
  });

  it("refetches on the safety interval while one is set, and stops with it", () => {
    const refetch = vi.fn();
    const stop = keepFresh(refetch, reconnected, 10_000);
    vi.advanceTimersByTime(9_999);
    expect(refetch).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(refetch).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(20_000);
    expect(refetch).toHaveBeenCalledTimes(3);
    stop();
    vi.advanceTimersByTime(60_000);
    expect(refetch).toHaveBeenCalledTimes(3);
  });
});
