import { describe, expect, it } from "vitest";
import { backoffMs, resubscribing, type Sink } from "./resubscribe";

function recorder() {
  const seen: string[] = [];
  const sink: Sink<string> = {
    next: (v) => seen.push(`next:${v}`),
    error: (e) => seen.push(`error:${JSON.stringify(e)}`),
    complete: () => seen.push("complete"),
  };
  return { seen, sink };
}

describe("resubscribing", () => {
  it("starts again after the socket closes with a code graphql-ws gives up on", () => {
    const { seen, sink } = recorder();
    const sinks: Sink<string>[] = [];
    const delays: number[] = [];
    const pending: (() => void)[] = [];
    resubscribing<string>(
      (s) => {
        sinks.push(s);
        return () => undefined;
      },
      sink,
      (run, ms) => {
        delays.push(ms);
        pending.push(run);
      },
    );
    sinks[0].next("a");
    sinks[0].error({ code: 1011, reason: "internal error" });
    sinks[0].error({ code: 1011, reason: "internal error" });
    expect(sinks).toHaveLength(1);
    pending.shift()!();
    expect(sinks).toHaveLength(2);
    sinks[1].error({ code: 4500, reason: "" });
    pending.shift()!();
    sinks[2].next("b");
    // The caller saw the events and never an error; the wait grew, then reset on an event.
    expect(seen).toEqual(["next:a", "next:b"]);
    expect(delays.slice(0, 3)).toEqual([1000, 2000, 4000]);
    sinks[2].error({ code: 1011, reason: "" });
    expect(delays.at(-1)).toBe(1000);
  });

  it("passes the subscription's own GraphQL errors and completion through", () => {
    const { seen, sink } = recorder();
    let inner: Sink<string> | undefined;
    resubscribing<string>((s) => ((inner = s), () => undefined), sink, () => {
      throw new Error("must not retry");
    });
    inner!.error([{ message: "forbidden" }]);
    inner!.complete();
    expect(seen).toEqual(['error:[{"message":"forbidden"}]', "complete"]);
  });

  it("stops for good when the caller unsubscribes, even with a retry pending", () => {
    const { seen, sink } = recorder();
    let starts = 0;
    let unsubscribed = 0;
    const pending: (() => void)[] = [];
    let inner: Sink<string> | undefined;
    const stop = resubscribing<string>(
      (s) => {
        starts += 1;
        inner = s;
        return () => (unsubscribed += 1);
      },
      sink,
      (run) => pending.push(run),
    );
    inner!.error({ code: 1011, reason: "" });
    stop();
    pending.forEach((run) => run());
    expect(starts).toBe(1);
    expect(unsubscribed).toBe(1);
    expect(seen).toEqual([]);
  });

  it("caps the wait at 30 s", () => {
    expect(backoffMs(0)).toBe(1000);
    expect(backoffMs(10)).toBe(30_000);
  });
});
