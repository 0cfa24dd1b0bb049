"""The LISTEN side: one dedicated asyncpg connection per API process, fanned out in process.

The connection is separate from the SQLAlchemy pool (a pooled connection would be handed to a
request and its LISTEN lost). When it drops, the hub reconnects with capped exponential backoff;
events committed while it was down are not replayed (they are refetch hints, see
:mod:`funnel.core.events.publisher`), and ``generation`` increases so a subscriber can tell a gap
happened. Each subscriber has a bounded queue: a client too slow to drain it loses the oldest
events rather than growing this process's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import asyncpg

from funnel.core.events.publisher import CHANNEL, Event, EventType
from funnel.core.telemetry import get_logger
from funnel.core.telemetry.metrics import Counter, Gauge

log = get_logger(__name__)

EVENTS_RECEIVED = Counter(
    "funnel_events_received_total", "Live-update events received from NOTIFY, by type.", ["type"]
)
EVENTS_DROPPED = Counter(
    "funnel_events_dropped_total",
    "Live-update events a slow subscriber lost (its queue was full), or malformed payloads.",
    ["reason"],
)
LISTENER_CONNECTED = Gauge(
    "funnel_events_listener_connected", "1 while the LISTEN connection is up."
)
SUBSCRIBERS = Gauge("funnel_events_subscribers", "In-process live-update subscribers.")


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """asyncpg wants ``postgresql://``; settings hold SQLAlchemy's ``postgresql+asyncpg://``."""
    for prefix in ("postgresql+asyncpg://", "postgres+asyncpg://"):
        if sqlalchemy_url.startswith(prefix):
            return "postgresql://" + sqlalchemy_url[len(prefix) :]
    return sqlalchemy_url


class Subscription:
    def __init__(
        self,
        hub: EventHub,
        organisation_id: uuid.UUID,
        types: frozenset[EventType] | None,
        max_queue: int,
    ) -> None:
        self._hub = hub
        self.organisation_id = organisation_id
        self.types = types
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=max_queue)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.types is not None and event.type not in self.types:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            EVENTS_DROPPED.labels(reason="slow_subscriber").inc()
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self._hub._unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                yield await self.queue.get()
        finally:
            self.close()


class EventHub:
    def __init__(
        self,
        dsn: str,
        *,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 10.0,
        max_queue: int = 1_000,
    ) -> None:
        self._dsn = asyncpg_dsn(dsn)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._max_queue = max_queue
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        #: Set while LISTEN is active; tests and readiness wait on it.
        self.listening = asyncio.Event()
        #: Increments on every (re)connection: a subscriber seeing it change knows it may have
        #: missed events and should refetch.
        self.generation = 0

    # ---------------------------------------------------------------- subscribers
    def subscribe(
        self, organisation_id: uuid.UUID, types: Iterable[EventType | str] | None = None
    ) -> Subscription:
        wanted = frozenset(EventType(t) for t in types) if types is not None else None
        subscription = Subscription(self, organisation_id, wanted, self._max_queue)
        self._subscribers.setdefault(organisation_id, set()).add(subscription)
        SUBSCRIBERS.inc()
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.organisation_id)
        if subscribers and subscription in subscribers:
            subscribers.discard(subscription)
            SUBSCRIBERS.dec()
            if not subscribers:
                del self._subscribers[subscription.organisation_id]

    def dispatch(self, event: Event) -> int:
        """Deliver to this organisation's subscribers only; returns how many got it."""
        subscribers = self._subscribers.get(event.organisation_id, ())
        for subscription in list(subscribers):
            subscription.offer(event)
        return len(subscribers)

    # ---------------------------------------------------------------- the connection
    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="funnel-events-listener")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.listening.clear()
        LISTENER_CONNECTED.set(0)

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            event = Event.from_payload(payload)
        except (ValueError, KeyError, TypeError):
            EVENTS_DROPPED.labels(reason="malformed").inc()
            log.warning("events.malformed_payload", extra={"bytes": len(payload)})
            return
        EVENTS_RECEIVED.labels(type=event.type.value).inc()
        self.dispatch(event)

    async def _run(self) -> None:
        delay = self._backoff_initial_s
        while not self._stopping.is_set():
            connection: Any = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=10)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notify)
                self.generation += 1
                self.listening.set()
                LISTENER_CONNECTED.set(1)
                log.info("events.listening", extra={"generation": self.generation})
                delay = self._backoff_initial_s
                # A termination listener fires on a clean close; a silently dead TCP connection
                # is caught by the periodic round trip.
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=15)
                    if not lost.is_set():
                        await connection.execute("SELECT 1", timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "events.listener_disconnected",
                    extra={"error_type": type(exc).__name__, "retry_in_s": round(delay, 2)},
                )
            finally:
                self.listening.clear()
                LISTENER_CONNECTED.set(0)
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=2))
            if self._stopping.is_set():
                return
            # Jitter, so replicas that lost the server together do not reconnect in lockstep.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))  # noqa: S311
            delay = min(delay * 2, self._backoff_max_s)
