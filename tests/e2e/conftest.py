"""The data plane's shared fixtures: a seeded organisation and channel with the corpus's ids, a
Kafka topic, an SQS queue, the sandbox, and settings for every process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from funnel.core.db.engine import create_engine
from funnel.core.devstack.kafka import TansuBroker
from funnel.core.sandbox.state import SandboxState
from funnel.core.settings import DatabaseSettings, Settings, WhatsAppChannelConfig
from tests.core.sandbox.support import RunningSandbox, serve_sandbox
from tests.factories import make_channel, make_organisation
from tests.fixtures.kafka import KafkaTopicFactory, kafka_settings, unique_group
from tests.fixtures.sqs import SqsQueue, sqs_settings
from tests.fixtures.whatsapp.corpus import TEST_APP_SECRET
from tests.pipeline.support import worker_settings

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
IMAGE_MEDIA_ID = "1480372069425510"


@dataclass
class Plane:
    settings: Settings
    engine: AsyncEngine
    sandbox: RunningSandbox
    organisation_id: uuid.UUID


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    # Room for every send of the largest test (mark-as-read calls are recorded too).
    state = SandboxState(max_sent=100_000)
    state.add_media(b"\x89PNG fake screenshot bytes", "image/jpeg", media_id=IMAGE_MEDIA_ID)
    with serve_sandbox(state) as running:
        yield running


@pytest.fixture
async def plane(
    database_url: str,
    kafka_broker: TansuBroker,
    kafka_topic: KafkaTopicFactory,
    sqs_queue: SqsQueue,
    sandbox: RunningSandbox,
) -> AsyncIterator[Plane]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    async with engine.begin() as connection:
        session = AsyncSession(bind=connection, expire_on_commit=False)
        organisation = await make_organisation(session)
        await make_channel(
            session,
            organisation,
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            app_secret=TEST_APP_SECRET,
        )
        organisation_id = organisation.id
    topic = await kafka_topic(partitions=4)
    base = worker_settings(
        database_url=database_url,
        kafka=kafka_settings(kafka_broker, inbound_topic=topic, consumer_group=unique_group()),
        graph_base_url=sandbox.url,
        debounce_s=0.3,
    )
    settings = base.model_copy(
        update={
            "sqs": sqs_settings(sqs_queue),
            "whatsapp": base.whatsapp.model_copy(
                update={
                    "channels": [
                        WhatsAppChannelConfig(
                            phone_number_id=PHONE_NUMBER_ID,
                            waba_id=WABA_ID,
                            app_secrets=[SecretStr(TEST_APP_SECRET)],
                            verify_token=SecretStr("verify"),
                            organisation_id=str(organisation_id),
                        )
                    ]
                }
            ),
        }
    )
    yield Plane(settings, engine, sandbox, organisation_id)
    await engine.dispose()
