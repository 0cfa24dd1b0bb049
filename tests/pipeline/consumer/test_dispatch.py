"""The dispatcher's promises: per-key order, cross-key concurrency, safe commit offsets."""

from __future__ import annotations

import asyncio
import random

from funnel.core.contracts.events import HEADER_KIND
from funnel.core.whatsapp.webhook import EventKind
from funnel.pipeline.consumer.dispatch import (
    KeyedDispatcher,
    PartitionOffsets,
    Record,
    TopicPartitionKey,
)
from funnel.pipeline.worker.handlers import lane_for

TP = TopicPartitionKey("t", 0)


def rec(key: str, offset: int, event_time: float | None = None, partition: int = 0) -> Record:
    return Record(
        topic="t",
        partition=partition,
        offset=offset,
        key=key,
        value=b"",
        event_time=float(offset) if event_time is None else event_time,
    )


def test_commit_offset_stops_at_the_oldest_unfinished() -> None:
    offsets = PartitionOffsets()
    for o in range(10, 15):
        offsets.add(o)
    assert offsets.committable() == 10
    for o in (11, 12, 14):
        offsets.done(o)
    assert offsets.committable() == 10  # 10 is still running: nothing after it is safe
    offsets.done(10)
    assert offsets.committable() == 13
    offsets.done(13)
    assert offsets.committable() == 15  # all done: one past the last seen


async def test_one_key_runs_strictly_one_batch_at_a_time_in_event_time_order() -> None:
    seen: list[int] = []
    running = 0
    overlap = False

    async def handler(batch: list[Record]) -> None:
        nonlocal running, overlap
        running += 1
        overlap |= running > 1
        await asyncio.sleep(0.001)
        seen.extend(r.offset for r in batch)
        running -= 1

    dispatcher = KeyedDispatcher(handler, max_in_flight=50)
    # Offsets arrive in Kafka order, but WhatsApp timestamps say 3 was written before 2.
    for offset, ts in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 3.0), (4, 5.0)]:
        dispatcher.submit(rec("k", offset, ts))
    assert await dispatcher.drain(timeout_s=5)
    assert not overlap
    # The first record starts alone; the rest queued behind it and are handed over sorted.
    assert seen == [0, 1, 3, 2, 4]


async def test_many_keys_in_one_partition_run_concurrently() -> None:
    started = asyncio.Event()
    concurrent = 0
    peak = 0

    async def handler(batch: list[Record]) -> None:
        nonlocal concurrent, peak
        concurrent += 1
        peak = max(peak, concurrent)
        await asyncio.sleep(0.05)
        concurrent -= 1
        started.set()

    dispatcher = KeyedDispatcher(handler, max_in_flight=100)
    for i in range(200):
        dispatcher.submit(rec(f"conv-{i}", i))
    assert await dispatcher.drain(timeout_s=5)
    assert peak == 100  # bounded by max_in_flight, far above one-at-a-time


async def test_commit_waits_for_a_slow_key_while_fast_keys_finish() -> None:
    release = asyncio.Event()

    async def handler(batch: list[Record]) -> None:
        if batch[0].key == "slow":
            await release.wait()

    dispatcher = KeyedDispatcher(handler, max_in_flight=10)
    dispatcher.assign([TP])
    dispatcher.submit(rec("fast-a", 0))
    dispatcher.submit(rec("slow", 1))
    for i in range(2, 6):
        dispatcher.submit(rec(f"fast-{i}", i))
    await asyncio.sleep(0.05)
    assert dispatcher.committable() == {TP: 1}
    release.set()
    assert await dispatcher.drain(timeout_s=5)
    assert dispatcher.committable() == {TP: 6}


async def test_a_burst_within_the_debounce_window_becomes_one_batch() -> None:
    batches: list[list[int]] = []

    async def handler(batch: list[Record]) -> None:
        batches.append([r.offset for r in batch])

    dispatcher = KeyedDispatcher(handler, max_in_flight=10, debounce_s=lambda _r: 0.15)
    dispatcher.submit(rec("k", 0))
    await asyncio.sleep(0.05)
    dispatcher.submit(rec("k", 1))
    await asyncio.sleep(0.05)
    dispatcher.submit(rec("k", 2))
    assert await dispatcher.drain(timeout_s=5)
    assert batches == [[0, 1, 2]]


async def test_debounce_is_bounded_for_a_customer_who_never_pauses() -> None:
    batches: list[list[int]] = []

    async def handler(batch: list[Record]) -> None:
        batches.append([r.offset for r in batch])

    dispatcher = KeyedDispatcher(
        handler, max_in_flight=10, debounce_s=lambda _r: 0.1, max_debounce_s=0.25
    )
    for i in range(8):  # one message every 60 ms for ~0.5 s: never 100 ms of quiet
        dispatcher.submit(rec("k", i))
        await asyncio.sleep(0.06)
    assert await dispatcher.drain(timeout_s=5)
    assert len(batches) >= 2
    assert [o for b in batches for o in b] == list(range(8))


async def test_a_failing_handler_is_retried_not_skipped() -> None:
    calls = 0

    async def handler(batch: list[Record]) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("database unavailable")

    dispatcher = KeyedDispatcher(handler, max_in_flight=1, retry_pause_s=0.01)
    dispatcher.assign([TP])
    dispatcher.submit(rec("k", 0))
    await asyncio.sleep(0.005)
    assert dispatcher.committable() == {TP: 0}
    assert await dispatcher.drain(timeout_s=5)
    assert calls == 3
    assert dispatcher.committable() == {TP: 1}


async def test_revoke_finishes_running_work_and_drops_the_rest() -> None:
    release = asyncio.Event()
    handled: list[int] = []

    async def handler(batch: list[Record]) -> None:
        await release.wait()
        handled.extend(r.offset for r in batch)

    other = TopicPartitionKey("t", 1)
    dispatcher = KeyedDispatcher(handler, max_in_flight=10)
    dispatcher.assign([TP, other])
    dispatcher.submit(rec("a", 0))
    await asyncio.sleep(0.01)  # "a"/0 is running
    dispatcher.submit(rec("a", 1))  # queued behind it
    dispatcher.submit(rec("b", 0, partition=1))

    async def finish_soon() -> None:
        await asyncio.sleep(0.05)
        release.set()

    finisher = asyncio.create_task(finish_soon())
    offsets = await dispatcher.revoke([TP], timeout_s=2)
    await finisher
    # The running batch finished; the queued record was dropped for the next owner to redo,
    # so the commit stops right before it.
    assert handled[:1] == [0]
    assert 1 not in handled
    assert offsets == {TP: 1}
    assert await dispatcher.drain(timeout_s=2)
    assert TP not in dispatcher.committable()
    assert dispatcher.committable() == {other: 1}


async def test_randomised_interleaving_keeps_every_key_in_order() -> None:
    rng = random.Random(7)
    per_key: dict[str, list[int]] = {}

    async def handler(batch: list[Record]) -> None:
        await asyncio.sleep(rng.random() / 500)
        for r in batch:
            per_key.setdefault(r.key, []).append(int(r.event_time))

    dispatcher = KeyedDispatcher(handler, max_in_flight=32)
    records = [(f"c{c}", seq) for c in range(50) for seq in range(20)]
    # Shuffle across keys while keeping each key's own sequence in order, as Kafka does.
    rng.shuffle(records)
    counters: dict[str, int] = {}
    for offset, (key, _) in enumerate(records):
        seq = counters.get(key, 0)
        counters[key] = seq + 1
        dispatcher.submit(rec(key, offset, event_time=float(seq)))
        if offset % 37 == 0:
            await asyncio.sleep(0)
    assert await dispatcher.drain(timeout_s=10)
    assert len(per_key) == 50
    for seqs in per_key.values():
        assert seqs == list(range(20))


async def test_a_status_is_applied_while_its_conversation_is_mid_turn() -> None:
    """Statuses have a lane of their own beside their conversation: a worker that took over from
    a dead one learns a send already reached WhatsApp without waiting behind the next LLM turn,
    while the conversation's messages keep their strict order."""
    turn_running = asyncio.Event()
    release_turn = asyncio.Event()
    handled: list[tuple[str, int]] = []

    async def handler(batch: list[Record]) -> None:
        kind = batch[0].header(HEADER_KIND)
        if kind == EventKind.MESSAGE.value.encode():
            turn_running.set()
            await release_turn.wait()
        handled.extend((r.key, r.offset) for r in batch)

    def record(offset: int, kind: EventKind) -> Record:
        return Record(
            topic="t",
            partition=0,
            offset=offset,
            key="org:phone:customer",
            value=b"",
            event_time=float(offset),
            headers=((HEADER_KIND, kind.value.encode()),),
        )

    dispatcher = KeyedDispatcher(handler, max_in_flight=10, lane=lane_for)
    dispatcher.assign([TP])
    dispatcher.submit(record(0, EventKind.MESSAGE))
    await asyncio.wait_for(turn_running.wait(), timeout=5)
    dispatcher.submit(record(1, EventKind.MESSAGE))
    dispatcher.submit(record(2, EventKind.STATUS))
    await asyncio.sleep(0.05)
    # The status is done while the turn still runs; the second message still waits its turn.
    assert handled == [("org:phone:customer", 2)]
    # Nothing past the running turn is committable, whatever finished after it.
    assert dispatcher.committable() == {TP: 0}
    release_turn.set()
    assert await dispatcher.drain(timeout_s=5)
    assert [offset for _, offset in handled] == [2, 0, 1]
    assert dispatcher.committable() == {TP: 3}
