"""Per-key ordering with concurrency across keys, and the offsets that are safe to commit.

Kafka orders a partition, but an LLM turn takes seconds: a worker that handled each partition
serially would manage a few turns per second. The dispatcher keeps one queue per conversation key
and runs many keys at once (also inside one partition), each key strictly one batch at a time.
A key's pending events are handed over sorted by WhatsApp timestamp, so a redelivered or
out-of-order message is still handled in the customer's order. Offsets are committed only up to
the oldest event that is not finished, whatever finished after it.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TopicPartitionKey:
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed event, as the dispatcher needs it."""

    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    #: WhatsApp's timestamp of the event (seconds); ties and missing values fall back to offset.
    event_time: float
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def tp(self) -> TopicPartitionKey:
        return TopicPartitionKey(self.topic, self.partition)

    @property
    def order(self) -> tuple[float, int]:
        return (self.event_time, self.offset)

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


class PartitionOffsets:
    """Which offsets of one partition are unfinished, and what may be committed.

    A min-heap of unfinished offsets with lazy deletion: ``done`` is O(1), ``committable`` is
    amortised O(log n), and the whole structure holds only what is in flight.
    """

    def __init__(self) -> None:
        self._heap: list[int] = []
        self._unfinished: set[int] = set()
        self._next: int | None = None

    def add(self, offset: int) -> None:
        if offset in self._unfinished:
            return
        heapq.heappush(self._heap, offset)
        self._unfinished.add(offset)
        if self._next is None or offset >= self._next:
            self._next = offset + 1

    def done(self, offset: int) -> None:
        self._unfinished.discard(offset)

    @property
    def in_flight(self) -> int:
        return len(self._unfinished)

    def committable(self) -> int | None:
        """The offset to commit: the oldest unfinished one, or one past the last seen."""
        while self._heap and self._heap[0] not in self._unfinished:
            heapq.heappop(self._heap)
        if self._heap:
            return self._heap[0]
        return self._next


Handler = Callable[[list[Record]], Awaitable[None]]


@dataclass
class _KeyState:
    pending: list[Record] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    last_arrival: float = 0.0


class KeyedDispatcher:
    """Runs ``handler`` for each key's pending records, one batch per key at a time.

    ``debounce_s(record)`` says how long a key should stay quiet before its batch starts (a burst
    of customer messages becomes one turn); statuses and scheduled actions say 0. The wait is
    bounded by ``max_debounce_s`` from the first pending record, so a customer who types without
    pause still gets an answer. ``max_in_flight`` bounds handlers running at once; waiting out a
    debounce does not hold a slot.

    ``lane(record)`` names the queue a record waits in; by default its Kafka key, so a
    conversation's events run one batch at a time. The worker gives delivery statuses a lane of
    their own beside their conversation's: a status is applied monotonically whatever order it
    arrives in, and must not wait behind the conversation's next LLM turns, because it is what
    tells a worker that took over from a dead one that a send already reached WhatsApp.

    The handler must not raise for a record that should be dropped: retries and dead-lettering
    are middleware around it. If it raises anyway the batch is retried after a pause, because
    marking it done would lose it.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        max_in_flight: int,
        debounce_s: Callable[[Record], float] = lambda _record: 0.0,
        max_debounce_s: float = 5.0,
        retry_pause_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        lane: Callable[[Record], str] = lambda record: record.key,
    ) -> None:
        self._handler = handler
        self._lane = lane
        self._slots = asyncio.Semaphore(max_in_flight)
        self._debounce_s = debounce_s
        self._max_debounce_s = max_debounce_s
        self._retry_pause_s = retry_pause_s
        self._clock = clock
        self._keys: dict[str, _KeyState] = {}
        self._offsets: dict[TopicPartitionKey, PartitionOffsets] = {}
        self._assigned: set[TopicPartitionKey] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        #: Records inside a running handler call, per partition: what a revoke waits for.
        self._running: dict[TopicPartitionKey, int] = {}

    # ----------------------------------------------------------------- intake

    def assign(self, partitions: Iterable[TopicPartitionKey]) -> None:
        for tp in partitions:
            self._assigned.add(tp)
            self._offsets.setdefault(tp, PartitionOffsets())

    def submit(self, record: Record) -> None:
        if record.tp not in self._assigned:
            self.assign([record.tp])
        self._offsets[record.tp].add(record.offset)
        lane = self._lane(record)
        state = self._keys.get(lane)
        if state is None:
            state = self._keys[lane] = _KeyState()
        state.pending.append(record)
        state.last_arrival = self._clock()
        self._idle.clear()
        if state.task is None:
            state.task = asyncio.create_task(self._run_key(lane), name=f"key:{lane}")

    # ---------------------------------------------------------------- queries

    @property
    def backlog(self) -> int:
        """Records accepted and not finished, across all partitions."""
        return sum(o.in_flight for o in self._offsets.values())

    @property
    def active_keys(self) -> int:
        return len(self._keys)

    def committable(self) -> dict[TopicPartitionKey, int]:
        out: dict[TopicPartitionKey, int] = {}
        for tp in self._assigned:
            offset = self._offsets[tp].committable()
            if offset is not None:
                out[tp] = offset
        return out

    # ------------------------------------------------------------- lifecycle

    async def revoke(
        self, partitions: Iterable[TopicPartitionKey], *, timeout_s: float
    ) -> dict[TopicPartitionKey, int]:
        """Stop taking work from ``partitions``, let running batches finish (bounded), and
        return the offsets safe to commit for them. Records not started are dropped: the new
        owner of the partition gets them again from the committed offset."""
        revoked = set(partitions) & self._assigned
        if not revoked:
            return {}
        self._assigned -= revoked
        self._drop_unstarted(revoked)
        deadline = self._clock() + timeout_s
        # A short poll: revocations are rare and bounded by the timeout, not worth an Event
        # per partition on the hot path.
        while any(self._running.get(tp) for tp in revoked) and self._clock() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        result: dict[TopicPartitionKey, int] = {}
        for tp in revoked:
            offsets = self._offsets.pop(tp)
            if self._running.get(tp):
                # Still running after the timeout: abandoned to the new owner, which redoes it
                # from the committed offset (effects are idempotent; the conversation row lock
                # keeps the two from interleaving).
                log.warning(
                    "dispatch.revoke_abandoned",
                    extra={"partition": tp.partition, "running": self._running[tp]},
                )
            # Dropped records were never marked done, so this stops before the first of them.
            offset = offsets.committable()
            if offset is not None:
                result[tp] = offset
        return result

    async def drain(self, *, timeout_s: float) -> bool:
        """Wait until every accepted record is finished. True when drained in time."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        tasks = [s.task for s in self._keys.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._keys.clear()

    # -------------------------------------------------------------- internals

    def _drop_unstarted(self, revoked: set[TopicPartitionKey]) -> None:
        """Forget records of revoked partitions that no handler has taken yet."""
        for state in self._keys.values():
            state.pending[:] = [r for r in state.pending if r.tp not in revoked]

    async def _quiet_period(self, state: _KeyState) -> None:
        first_arrival = state.last_arrival
        hard_deadline = first_arrival + self._max_debounce_s
        while True:
            wait = max((self._debounce_s(r) for r in state.pending), default=0.0)
            if wait <= 0:
                return
            quiet_until = min(state.last_arrival + wait, hard_deadline)
            remaining = quiet_until - self._clock()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)

    async def _run_key(self, key: str) -> None:
        state = self._keys[key]
        try:
            while True:
                state.pending[:] = [r for r in state.pending if r.tp in self._assigned]
                if not state.pending:
                    break
                await self._quiet_period(state)
                batch = sorted(
                    (r for r in state.pending if r.tp in self._assigned), key=lambda r: r.order
                )
                state.pending.clear()
                if not batch:
                    continue
                for record in batch:
                    self._running[record.tp] = self._running.get(record.tp, 0) + 1
                try:
                    await self._handle(batch)
                finally:
                    for record in batch:
                        self._running[record.tp] -= 1
                for record in batch:
                    offsets = self._offsets.get(record.tp)
                    if offsets is not None:
                        offsets.done(record.offset)
        finally:
            state.task = None
            if not state.pending:
                self._keys.pop(key, None)
            if not self._keys:
                self._idle.set()

    async def _handle(self, batch: list[Record]) -> None:
        attempt = 0
        while True:
            async with self._slots:
                try:
                    await self._handler(batch)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    attempt += 1
                    log.exception(
                        "dispatch.handler_failed",
                        extra={
                            "partition": batch[0].partition,
                            "offset": batch[0].offset,
                            "attempt": attempt,
                        },
                    )
            await asyncio.sleep(min(self._retry_pause_s * attempt, 30.0))
