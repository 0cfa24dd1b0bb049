"""Shared fixtures for worker tests: a seeded organisation and channel, a topic, the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.db.engine import create_engine
from funnel.core.devstack.kafka import TansuBroker
from funnel.core.sandbox.state import SandboxState
from funnel.core.settings import DatabaseSettings
from tests.core.sandbox.support import RunningSandbox, serve_sandbox
from tests.factories import make_channel, make_organisation
from tests.fixtures.kafka import KafkaTopicFactory, kafka_settings, unique_group
from tests.pipeline.support import World, worker_settings


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(SandboxState()) as running:
        yield running


@pytest.fixture
async def world(
    database_url: str,
    kafka_broker: TansuBroker,
    kafka_topic: KafkaTopicFactory,
    sandbox: RunningSandbox,
) -> AsyncIterator[World]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    async with engine.begin() as connection:
        session = AsyncSession(bind=connection, expire_on_commit=False)
        organisation = await make_organisation(session)
        channel = await make_channel(session, organisation)
        await session.flush()
        ids = (organisation.id, channel.phone_number_id, channel.waba_id)
    topic = await kafka_topic(partitions=4)
    settings = worker_settings(
        database_url=database_url,
        kafka=kafka_settings(
            kafka_broker, inbound_topic=topic, consumer_group=unique_group("worker")
        ),
        graph_base_url=sandbox.url,
    )
    yield World(
        settings=settings,
        engine=engine,
        sandbox=sandbox,
        organisation_id=ids[0],
        phone_number_id=ids[1],
        waba_id=ids[2],
        topic=topic,
        bootstrap=kafka_broker.bootstrap_servers,
    )
    await engine.dispose()
