"""The worker process: the Kafka consumer and the outbox sender, started and stopped together.

SIGTERM (Kubernetes) and SIGINT stop fetching, let in-flight turns finish (bounded by
``worker.drain_timeout_s``), commit what finished, then stop the sender after its in-flight sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiokafka import AIOKafkaProducer

from funnel.core.settings import Settings
from funnel.core.turns.contract import Pipeline
from funnel.pipeline.consumer import ConsumerConfig, KafkaWorker, KeyedDispatcher
from funnel.pipeline.worker import metrics
from funnel.pipeline.worker.handlers import (
    EventHandler,
    debounce_for,
    lane_for,
    with_retries_and_dead_letters,
)
from funnel.pipeline.worker.memory import MemoryRunner, SupportsMemory
from funnel.pipeline.worker.resources import Resources
from funnel.pipeline.worker.scheduler import Clock, ScheduledActions, Scheduler, utcnow
from funnel.pipeline.worker.sender import OutboxSender

log = logging.getLogger(__name__)


class WorkerApp:
    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        *,
        run_sender: bool = True,
        run_scheduler: bool = True,
        scheduler_poll_s: float = 1.0,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.run_sender = run_sender
        self.run_scheduler = run_scheduler
        self.scheduler_poll_s = scheduler_poll_s
        #: The scheduler's and scheduled handlers' idea of now (tests move it forward).
        self.clock = clock
        self.resources: Resources | None = None
        self.consumer: KafkaWorker | None = None
        self.sender: OutboxSender | None = None
        self.scheduler: Scheduler | None = None
        self.memory: MemoryRunner | None = None
        self.ready = asyncio.Event()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()

    async def run(self) -> None:
        settings = self.settings
        dead_letters = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            acks="all",
            enable_idempotence=settings.kafka.enable_idempotence,
        )
        await dead_letters.start()
        resources = self.resources = Resources.build(
            settings, self.pipeline, dead_letters=dead_letters
        )
        handler = EventHandler(resources)
        if isinstance(self.pipeline, SupportsMemory):
            self.memory = handler.memory = MemoryRunner(resources, self.pipeline)
        handler.scheduled = ScheduledActions(
            resources,
            clock=self.clock,
            on_turn=handler.turn_committed,
            outbox_ready=handler.outbox_ready,
        )
        dispatcher = KeyedDispatcher(
            with_retries_and_dead_letters(resources, handler),
            max_in_flight=settings.kafka.max_in_flight,
            debounce_s=debounce_for(settings.worker.debounce_s),
            max_debounce_s=settings.worker.max_debounce_s,
            lane=lane_for,
        )
        self.consumer = KafkaWorker(
            ConsumerConfig(
                bootstrap_servers=settings.kafka.bootstrap_servers,
                topic=settings.kafka.inbound_topic,
                group_id=settings.kafka.consumer_group,
                session_timeout_ms=settings.kafka.session_timeout_ms,
                heartbeat_interval_ms=settings.kafka.heartbeat_interval_ms,
                drain_timeout_s=settings.worker.drain_timeout_s,
            ),
            dispatcher,
        )
        sender_task: asyncio.Task[None] | None = None
        if self.run_sender:
            self.sender = OutboxSender(resources, wake=handler.outbox_ready)
            sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        scheduler_task: asyncio.Task[None] | None = None
        if self.run_scheduler:
            self.scheduler = Scheduler(
                resources,
                dead_letters,
                topic=settings.kafka.inbound_topic,
                poll_s=self.scheduler_poll_s,
                clock=self.clock,
            )
            scheduler_task = asyncio.create_task(self.scheduler.run(), name="scheduler")
        gauges = asyncio.create_task(self._export_gauges(dispatcher), name="gauges")
        consumer_task = asyncio.create_task(self.consumer.run(), name="consumer")
        started = asyncio.create_task(self.consumer.started.wait())
        await asyncio.wait({consumer_task, started}, return_when=asyncio.FIRST_COMPLETED)
        self.ready.set()
        try:
            await consumer_task
        finally:
            gauges.cancel()
            if self.scheduler is not None and scheduler_task is not None:
                self.scheduler.stop()
                with contextlib.suppress(Exception):
                    await scheduler_task
            if self.memory is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.memory.drain(), settings.worker.drain_timeout_s)
            if self.sender is not None and sender_task is not None:
                self.sender.stop()
                with contextlib.suppress(Exception):
                    await sender_task
            await dead_letters.stop()
            await resources.close()
            log.info("worker.stopped")

    async def _export_gauges(self, dispatcher: KeyedDispatcher) -> None:
        while True:
            metrics.IN_FLIGHT.set(dispatcher.backlog)
            metrics.ACTIVE_CONVERSATIONS.set(dispatcher.active_keys)
            await asyncio.sleep(1.0)


async def run_worker(settings: Settings, pipeline: Pipeline) -> None:
    """``funnel pipeline worker``: run until SIGTERM or SIGINT."""
    app = WorkerApp(settings, pipeline)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, app.stop)
    await app.run()
