"""The micro-batcher's rules, with a send function the test controls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from funnel.receiver.publisher import MicroBatcher, PublisherOverloaded, PublishError


class FakeSqs:
    def __init__(self, *, refuse: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.refuse = refuse

    async def send(self, bodies: Sequence[str]) -> list[Exception | None]:
        await self.gate.wait()
        self.batches.append(list(bodies))
        return [
            PublishError("refused") if self.refuse and self.refuse in b else None for b in bodies
        ]


def batcher(sqs: FakeSqs, **overrides: float) -> MicroBatcher:
    options: dict[str, float] = {
        "linger_s": 0.005,
        "max_batch_bytes": 262_144,
        "queue_size": 1_000,
        "concurrency": 4,
        **overrides,
    }
    return MicroBatcher(
        sqs.send,
        name="test",
        linger_s=options["linger_s"],
        max_batch_bytes=int(options["max_batch_bytes"]),
        queue_size=int(options["queue_size"]),
        concurrency=int(options["concurrency"]),
    )


async def test_a_full_batch_leaves_without_waiting_for_the_linger() -> None:
    sqs = FakeSqs()
    b = batcher(sqs, linger_s=30.0)
    b.start()
    started = time.monotonic()
    await asyncio.gather(*(b.submit(f"m{i}") for i in range(10)))
    assert time.monotonic() - started < 5
    assert sqs.batches == [[f"m{i}" for i in range(10)]]
    await b.stop()


async def test_batches_never_exceed_ten_entries_or_the_byte_limit() -> None:
    sqs = FakeSqs()
    b = batcher(sqs, max_batch_bytes=100)
    b.start()
    await asyncio.gather(*(b.submit("x" * 40) for _ in range(7)))
    await asyncio.gather(*(b.submit("y") for _ in range(25)))
    await b.stop()
    assert sum(len(batch) for batch in sqs.batches) == 32
    assert all(len(batch) <= 10 for batch in sqs.batches)
    assert all(sum(len(m) for m in batch) <= 100 for batch in sqs.batches)


async def test_each_request_gets_its_own_entrys_result() -> None:
    sqs = FakeSqs(refuse="bad")
    b = batcher(sqs)
    b.start()
    results = await asyncio.gather(
        *(b.submit("bad" if i % 3 == 0 else "good") for i in range(9)), return_exceptions=True
    )
    await b.stop()
    assert [isinstance(r, PublishError) for r in results] == [i % 3 == 0 for i in range(9)]
    assert len(sqs.batches) == 1


async def test_a_failed_call_fails_every_entry_in_it() -> None:
    async def broken(bodies: Sequence[str]) -> list[Exception | None]:
        raise ConnectionError("SQS is down")

    b = MicroBatcher(
        broken, name="t", linger_s=0.005, max_batch_bytes=1_000, queue_size=10, concurrency=1
    )
    b.start()
    results = await asyncio.gather(*(b.submit("m") for _ in range(3)), return_exceptions=True)
    await b.stop()
    assert all(isinstance(r, PublishError) for r in results)


async def test_a_full_queue_refuses_fast_instead_of_growing() -> None:
    sqs = FakeSqs()
    sqs.gate.clear()  # SQS hangs: the first batch never returns until released
    b = batcher(sqs, queue_size=10, concurrency=1, linger_s=0.0)
    b.start()
    in_flight = asyncio.create_task(b.submit("first"))
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(b.submit(f"w{i}")) for i in range(10)]
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(PublisherOverloaded):
        await b.submit("one too many")
    assert time.monotonic() - started < 0.1
    sqs.gate.set()
    await asyncio.gather(in_flight, *waiting)
    await b.stop()
    assert sorted(m for batch in sqs.batches for m in batch) == sorted(
        ["first", *(f"w{i}" for i in range(10))]
    )


async def test_stop_sends_what_is_queued_and_then_refuses() -> None:
    sqs = FakeSqs()
    b = batcher(sqs, linger_s=0.5)
    b.start()
    pending = asyncio.create_task(b.submit("last words"))
    await asyncio.sleep(0.01)
    await b.stop()
    await pending
    assert sqs.batches == [["last words"]]
    with pytest.raises(PublishError):
        await b.submit("too late")
