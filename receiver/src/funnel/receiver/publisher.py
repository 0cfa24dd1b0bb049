"""Getting webhook bodies into SQS: the :class:`Publisher` protocol and the SQS publisher.

Meta is answered 200 only once SQS holds the body, so every request waits for its own entry.
Concurrent requests are coalesced by a :class:`MicroBatcher` into ``SendMessageBatch`` calls of
up to ten entries: one call per ten webhooks instead of ten, which is what lets one receiver keep
up with SQS's per-call latency. The wait queue is bounded, so an SQS outage or overload answers
503 quickly (Meta retries for days) instead of holding requests and memory until they time out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session

from funnel.core.contracts.sqs import SQS_MAX_BATCH_ENTRIES
from funnel.core.settings import SqsSettings
from funnel.core.telemetry import get_logger
from funnel.receiver import metrics

log = get_logger("funnel.receiver.publisher")


class PublishError(Exception):
    """The body is not known to be in SQS: the webhook must not be acknowledged."""


class PublisherOverloaded(PublishError):
    """Too many entries already wait for SQS; refusing fast beats queueing without bound."""


class Publisher(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, body: str, *, dead_letter: bool = False) -> None:
        """Return once SQS accepted ``body``; raise :class:`PublishError` otherwise."""
        ...

    async def ready(self) -> bool:
        """Whether publishing is expected to work (started, SQS reachable)."""
        ...


#: Sends one batch; returns, per body in order, ``None`` when accepted or the error.
SendBatch = Callable[[Sequence[str]], Awaitable[Sequence[Exception | None]]]


@dataclass(slots=True)
class _Entry:
    body: str
    size: int
    future: asyncio.Future[None]
    enqueued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Coalesce concurrent submissions into batches of up to ``max_entries``.

    A batch leaves when it is full, when ``max_batch_bytes`` would be exceeded (SQS limits the
    batch total as well as each message), or ``linger_s`` after its first entry arrived. While
    all ``concurrency`` send slots are busy no batch is formed, so entries accumulate and the next
    batch leaves full: batching deepens exactly when SQS is the bottleneck.
    """

    def __init__(
        self,
        send: SendBatch,
        *,
        name: str,
        linger_s: float,
        max_batch_bytes: int,
        queue_size: int,
        concurrency: int,
        max_entries: int = SQS_MAX_BATCH_ENTRIES,
    ) -> None:
        self._send = send
        self.name = name
        self._linger_s = linger_s
        self._max_entries = max_entries
        self._max_batch_bytes = max_batch_bytes
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue(maxsize=queue_size)
        self._slots = asyncio.Semaphore(concurrency)
        self._enough = asyncio.Event()
        self._carry: _Entry | None = None
        #: The first entry of the batch being formed, while the linger runs.
        self._holding: _Entry | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"micro-batcher-{self.name}")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (up to ``timeout_s``), then fail whatever is left."""
        self._closing = True
        deadline = time.monotonic() + timeout_s
        while self._busy() and time.monotonic() < deadline:
            self._enough.set()
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        leftovers = [e for e in (self._holding, self._carry) if e is not None]
        while not self._queue.empty():
            leftovers.append(self._queue.get_nowait())
        for entry in leftovers:
            if not entry.future.done():
                entry.future.set_exception(PublishError("publisher stopped"))
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    def _busy(self) -> bool:
        return bool(self._queue.qsize() or self._carry or self._holding or self._inflight)

    async def submit(self, body: str) -> None:
        if self._closing or not self.running:
            raise PublishError("publisher is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = _Entry(body=body, size=len(body.encode("utf-8")), future=future)
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            metrics.SQS_SEND_FAILURES.labels(reason="overloaded").inc()
            raise PublisherOverloaded(
                f"{self.name}: {self._queue.maxsize} entries waiting"
            ) from None
        if self._queue.qsize() >= self._max_entries:
            self._enough.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                batch = await self._collect()
            except BaseException:
                self._slots.release()
                raise
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._deliver(batch))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _take(self) -> _Entry | None:
        if self._carry is not None:
            entry, self._carry = self._carry, None
            return entry
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def _collect(self) -> list[_Entry]:
        first = self._take() or await self._queue.get()
        if self._linger_s > 0 and self._queue.qsize() < self._max_entries - 1 and not self._closing:
            self._holding = first
            self._enough.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._enough.wait(), self._linger_s)
            self._holding = None
        batch: list[_Entry] = []
        size = 0
        entry: _Entry | None = first
        while entry is not None:
            # A request that already gave up (its client went away, or it timed out and was
            # answered 503) is not sent: Meta will redeliver it anyway.
            if not entry.future.done():
                if batch and size + entry.size > self._max_batch_bytes:
                    self._carry = entry
                    break
                batch.append(entry)
                size += entry.size
            if len(batch) >= self._max_entries:
                break
            entry = self._take()
        return batch

    async def _deliver(self, batch: list[_Entry]) -> None:
        try:
            metrics.SQS_BATCH_SIZE.observe(len(batch))
            try:
                results = await self._send([entry.body for entry in batch])
            except Exception as exc:  # every failure of the call fails every entry, visibly
                log.warning(
                    "sqs.batch_failed",
                    extra={"queue": self.name, "entries": len(batch), "error": repr(exc)},
                )
                metrics.SQS_SEND_FAILURES.labels(reason="call").inc(len(batch))
                results = [PublishError(f"SendMessageBatch failed: {exc!r}")] * len(batch)
            now = time.perf_counter()
            for entry, error in zip(batch, results, strict=True):
                if entry.future.done():
                    continue
                if error is None:
                    metrics.SQS_ENQUEUE_DURATION.observe(now - entry.enqueued)
                    entry.future.set_result(None)
                else:
                    entry.future.set_exception(error)
        finally:
            self._slots.release()


class SqsPublisher:
    """The production publisher: aiobotocore's SQS client behind two micro-batchers."""

    def __init__(
        self,
        settings: SqsSettings,
        *,
        session: AioSession | None = None,
        readiness_ttl_s: float = 5.0,
    ) -> None:
        if not settings.queue_url:
            raise ValueError("SqsSettings.queue_url is required to publish webhooks")
        self._settings = settings
        self._session = session
        self._readiness_ttl_s = readiness_ttl_s
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._main: MicroBatcher | None = None
        self._dead: MicroBatcher | None = None
        self._ready_at = 0.0
        self._ready = False
        self._ready_lock = asyncio.Lock()

    async def start(self) -> None:
        settings = self._settings
        session = self._session or get_session()
        config = AioConfig(
            connect_timeout=2,
            read_timeout=max(2.0, settings.publish_timeout_s),
            # One quick retry inside the call; beyond that Meta's own redelivery is the retry.
            retries={"max_attempts": 2, "mode": "standard"},
            max_pool_connections=settings.publish_concurrency * 2 + 2,
        )
        self._client = await self._stack.enter_async_context(
            session.create_client(
                "sqs",
                region_name=settings.region,
                endpoint_url=settings.endpoint_url or None,
                # Empty means the default chain (an IAM role in Lambda or on EKS).
                aws_access_key_id=settings.access_key_id.get_secret_value() or None,
                aws_secret_access_key=settings.secret_access_key.get_secret_value() or None,
                config=config,
            )
        )
        self._main = self._batcher("main", settings.queue_url)
        if settings.dead_letter_queue_url:
            self._dead = self._batcher("dead_letter", settings.dead_letter_queue_url)

    def _batcher(self, name: str, queue_url: str) -> MicroBatcher:
        async def send(bodies: Sequence[str]) -> list[Exception | None]:
            return await self._send_batch(queue_url, bodies)

        batcher = MicroBatcher(
            send,
            name=name,
            linger_s=self._settings.batch_linger_ms / 1000,
            max_batch_bytes=self._settings.max_message_bytes,
            queue_size=self._settings.publish_queue_size,
            concurrency=self._settings.publish_concurrency,
        )
        batcher.start()
        return batcher

    async def _send_batch(self, queue_url: str, bodies: Sequence[str]) -> list[Exception | None]:
        response = await self._client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
        )
        accepted = {item["Id"] for item in response.get("Successful", [])}
        failed = {item["Id"]: item for item in response.get("Failed", [])}
        results: list[Exception | None] = []
        for i in range(len(bodies)):
            if str(i) in accepted:
                results.append(None)
                continue
            failure = failed.get(str(i), {})
            metrics.SQS_SEND_FAILURES.labels(reason="entry").inc()
            results.append(
                PublishError(f"entry refused: {failure.get('Code')}: {failure.get('Message')}")
            )
        return results

    async def stop(self) -> None:
        for batcher in (self._main, self._dead):
            if batcher is not None:
                await batcher.stop()
        await self._stack.aclose()

    async def publish(self, body: str, *, dead_letter: bool = False) -> None:
        # Without a configured DLQ a dead letter goes to the main queue; its body carries the
        # reason, so the bridge sends it on to its own dead-letter handling.
        batcher = self._dead if dead_letter and self._dead is not None else self._main
        if batcher is None:
            raise PublishError("publisher not started")
        try:
            await asyncio.wait_for(batcher.submit(body), self._settings.publish_timeout_s)
        except TimeoutError:
            metrics.SQS_SEND_FAILURES.labels(reason="timeout").inc()
            raise PublishError(
                f"SQS did not accept within {self._settings.publish_timeout_s}s"
            ) from None

    async def ready(self) -> bool:
        if self._main is None or not self._main.running:
            return False
        async with self._ready_lock:
            if time.monotonic() - self._ready_at < self._readiness_ttl_s:
                return self._ready
            try:
                await asyncio.wait_for(
                    self._client.get_queue_attributes(
                        QueueUrl=self._settings.queue_url, AttributeNames=["QueueArn"]
                    ),
                    timeout=3.0,
                )
                self._ready = True
            except Exception as exc:  # any failure means "not ready"; the reason is logged
                log.warning("sqs.unreachable", extra={"error": repr(exc)})
                self._ready = False
            self._ready_at = time.monotonic()
            return self._ready
