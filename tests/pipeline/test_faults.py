"""The worker under infrastructure faults: PostgreSQL dropping its connections mid-run."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition

from funnel.core.models import Message, PipelineRun
from funnel.core.models.enums import MessageDirection
from tests.pipeline.support import EchoPipeline, World, epoch, running_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


async def kill_worker_connections(world: World) -> int:
    """What a failover or a network cut looks like from the worker: its connections die."""
    async with world.engine.connect() as c:
        result = await c.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'funnel-worker'"
            )
        )
        return int(result.scalar_one())


async def test_dropped_database_connections_are_retried_and_nothing_is_lost(
    world: World,
) -> None:
    customers = [f"91987{i:07d}" for i in range(30)]
    base = epoch()
    async with running_worker(world.settings, EchoPipeline(think_s=0.05)):
        killed = 0
        for round_ in range(3):
            await world.publish(
                *(world.text(wa_id, f"message {round_}", base + round_) for wa_id in customers)
            )
            await asyncio.sleep(0.3)
            killed += await kill_worker_connections(world)
        assert killed > 0  # the fault really happened while work was in flight
        await wait_for(
            lambda: sum(r.count("message") for wa in customers for r in world.replies_to(wa)),
            equals=len(customers) * 3,
            timeout_s=90,
            what="every message answered despite the dropped connections",
        )
        await asyncio.sleep(1.0)
    for wa_id in customers:
        answered = [
            part
            for reply in world.replies_to(wa_id)
            for part in reply.removeprefix("echo: ").split(" | ")
        ]
        assert answered == ["message 0", "message 1", "message 2"], (wa_id, answered)
    async with world.engine.connect() as c:
        stored = (
            await c.execute(
                sa.select(sa.func.count())
                .select_from(Message)
                .where(Message.direction == MessageDirection.INBOUND)
            )
        ).scalar_one()
    assert stored == len(customers) * 3


async def test_stopping_drains_in_flight_turns_and_commits(world: World) -> None:
    """SIGTERM (``WorkerApp.stop``) while turns are in flight: they finish and are committed, so
    the next worker in the group redoes nothing."""
    customers = [f"91986{i:07d}" for i in range(20)]
    await world.publish(*(world.text(wa_id, "hello", epoch()) for wa_id in customers))
    slow = EchoPipeline(think_s=1.5)
    async with running_worker(world.settings, slow):
        await wait_for(lambda: len(slow.turns) >= 10, what="turns in flight")
        # Leaving the block calls stop() while the LLM is still thinking for most of them.
    answered = sum(len(world.replies_to(wa_id)) for wa_id in customers)
    async with world.engine.connect() as c:
        runs = (await c.execute(sa.select(sa.func.count()).select_from(PipelineRun))).scalar_one()
    assert runs == len(slow.turns)  # every started turn was finished and persisted
    # Everything handled was committed: the group's offsets cover all 20 events, so a worker
    # starting next consumes nothing again.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=world.bootstrap, group_id=world.settings.kafka.consumer_group
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(world.topic, p) for p in consumer.partitions_for_topic(world.topic) or ()
        ]
        committed = [await consumer.committed(tp) or 0 for tp in partitions]
    finally:
        await consumer.stop()
    assert sum(committed) == len(customers)
    assert answered == runs
