"""The consumer loop: aiokafka group membership around a :class:`KeyedDispatcher`.

Fetches keep flowing while handlers run; fetching pauses when the backlog passes a high-water
mark and resumes below a low one, so memory stays bounded however slow the LLM is. Offsets are
committed on an interval, on revocation and on shutdown, always only up to the oldest unfinished
event of each partition.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.structs import OffsetAndMetadata

from funnel.core.contracts.events import HEADER_EVENT_TIME
from funnel.pipeline.consumer.dispatch import KeyedDispatcher, Record, TopicPartitionKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerConfig:
    bootstrap_servers: str
    topic: str
    group_id: str
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_records: int = 500
    commit_interval_s: float = 0.5
    #: Pause fetching above this many unfinished records, resume below half of it.
    max_backlog: int = 5_000
    revoke_timeout_s: float = 5.0
    drain_timeout_s: float = 30.0


def to_record(message: ConsumerRecord[bytes, bytes]) -> Record:
    headers = tuple((k, v or b"") for k, v in (message.headers or ()))
    event_time = message.timestamp / 1000.0
    for key, value in headers:
        if key == HEADER_EVENT_TIME:
            try:
                event_time = float(value.decode())
            except ValueError:
                log.warning("consumer.bad_event_time", extra={"offset": message.offset})
            break
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=(message.key or b"").decode(errors="replace"),
        value=message.value or b"",
        event_time=event_time,
        headers=headers,
    )


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: KafkaWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.worker.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.worker.on_assigned(assigned)


class KafkaWorker:
    """Consumes one topic in a consumer group and dispatches records by key."""

    def __init__(
        self,
        config: ConsumerConfig,
        dispatcher: KeyedDispatcher,
        *,
        consumer_factory: Callable[[ConsumerConfig], AIOKafkaConsumer] | None = None,
    ) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self._consumer_factory = consumer_factory or _default_consumer
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._paused = False
        self._committed: dict[TopicPartitionKey, int] = {}
        self.started = asyncio.Event()

    # ------------------------------------------------------------- rebalance

    def on_assigned(self, assigned: list[TopicPartition]) -> None:
        self.dispatcher.assign(TopicPartitionKey(tp.topic, tp.partition) for tp in assigned)
        log.info("consumer.assigned", extra={"partitions": sorted(tp.partition for tp in assigned)})

    async def on_revoked(self, revoked: list[TopicPartition]) -> None:
        keys = [TopicPartitionKey(tp.topic, tp.partition) for tp in revoked]
        offsets = await self.dispatcher.revoke(keys, timeout_s=self.config.revoke_timeout_s)
        await self._commit(offsets)
        for key in keys:
            self._committed.pop(key, None)
        log.info("consumer.revoked", extra={"partitions": sorted(tp.partition for tp in revoked)})

    # ------------------------------------------------------------------ loop

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = self._consumer = self._consumer_factory(self.config)
        consumer.subscribe([self.config.topic], listener=_Rebalance(self))
        await consumer.start()
        self.started.set()
        loop = asyncio.get_running_loop()
        next_commit = loop.time() + self.config.commit_interval_s
        try:
            while not self._stopping.is_set():
                self._apply_backpressure(consumer)
                batches = await consumer.getmany(
                    timeout_ms=100, max_records=self.config.max_poll_records
                )
                for messages in batches.values():
                    for message in messages:
                        self.dispatcher.submit(to_record(message))
                if loop.time() >= next_commit:
                    await self._commit(self.dispatcher.committable())
                    next_commit = loop.time() + self.config.commit_interval_s
            drained = await self.dispatcher.drain(timeout_s=self.config.drain_timeout_s)
            if not drained:
                log.warning("consumer.drain_timeout", extra={"backlog": self.dispatcher.backlog})
            await self._commit(self.dispatcher.committable())
        finally:
            await self.dispatcher.close()
            await consumer.stop()
            log.info("consumer.stopped")

    def _apply_backpressure(self, consumer: AIOKafkaConsumer) -> None:
        backlog = self.dispatcher.backlog
        if not self._paused and backlog >= self.config.max_backlog:
            consumer.pause(*consumer.assignment())
            self._paused = True
            log.info("consumer.paused", extra={"backlog": backlog})
        elif self._paused and backlog <= self.config.max_backlog // 2:
            consumer.resume(*consumer.assignment())
            self._paused = False
            log.info("consumer.resumed", extra={"backlog": backlog})

    async def _commit(self, offsets: dict[TopicPartitionKey, int]) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        changed = {
            TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(offset, "")
            for tp, offset in offsets.items()
            if self._committed.get(tp) != offset
        }
        if not changed:
            return
        try:
            await consumer.commit(changed)
        except Exception:
            # A commit lost to a rebalance is harmless: the events are redelivered and their
            # effects are idempotent. Log it and carry on.
            log.warning("consumer.commit_failed", exc_info=True)
            return
        for tp, meta in changed.items():
            self._committed[TopicPartitionKey(tp.topic, tp.partition)] = meta.offset


def _default_consumer(config: ConsumerConfig) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=config.bootstrap_servers,
        group_id=config.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=config.session_timeout_ms,
        heartbeat_interval_ms=config.heartbeat_interval_ms,
        max_poll_records=config.max_poll_records,
    )
