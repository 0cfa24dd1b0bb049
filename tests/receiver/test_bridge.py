"""The bridge on the real services: moto's SQS in, Tansu's Kafka out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import get_session
from aiokafka import AIOKafkaConsumer

from funnel.core.contracts.events import HEADER_EVENT_TIME, InboundEvent
from funnel.core.contracts.sqs import SqsWebhookMessage
from funnel.core.devstack.kafka import S3Storage, TansuBroker, create_topic
from funnel.core.devstack.sqs import MotoServer
from funnel.core.settings import KafkaSettings, SqsSettings, WhatsAppChannelConfig
from funnel.receiver.bridge import (
    Bridge,
    BridgeConfig,
    KafkaEventProducer,
    OrganisationRouter,
    sqs_client_kwargs,
)
from tests.fixtures.kafka import KafkaTopicFactory, consumer_options, kafka_settings, unique_group
from tests.fixtures.sqs import SqsQueue, sqs_settings
from tests.fixtures.whatsapp.corpus import load_fixture

pytestmark = [pytest.mark.kafka, pytest.mark.sqs]

ORG = str(uuid.UUID(int=1))
CHANNELS = [
    WhatsAppChannelConfig(
        phone_number_id="106540352242922",
        waba_id="102290129340398",
        app_secrets=["test_app_secret"],  # type: ignore[list-item]
        verify_token="v",  # type: ignore[arg-type]
        organisation_id=ORG,
    )
]


async def enqueue(sqs: Any, queue: SqsQueue, body: str) -> None:
    await sqs.send_message(QueueUrl=queue.url, MessageBody=body)


def webhook_message(name: str) -> str:
    fixture = load_fixture(name)
    return SqsWebhookMessage.wrap(fixture.raw, correlation_id=f"cid-{name}").encode()


async def consume_all(bootstrap: str, topic: str, expected: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, **consumer_options(group_id=unique_group())
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(20):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    records.extend(messages)
    finally:
        await consumer.stop()
    return records


async def queue_depth(sqs: Any, url: str) -> int:
    attrs = await sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    a = attrs["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
async def sqs_client(sqs_queue: SqsQueue) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "sqs", **sqs_client_kwargs(sqs_settings(sqs_queue))
    ) as client:
        yield client


def make_bridge(
    sqs: Any, settings: SqsSettings, producer: KafkaEventProducer, **config: Any
) -> Bridge:
    base = BridgeConfig.from_settings(settings)
    return Bridge(
        BridgeConfig(**{**base.__dict__, **config}), sqs, producer, OrganisationRouter(CHANNELS)
    )


async def test_batched_webhook_becomes_one_keyed_event_per_message(
    kafka_broker: TansuBroker,
    kafka_topic: KafkaTopicFactory,
    sqs_queue: SqsQueue,
    sqs_client: Any,
) -> None:
    topic = await kafka_topic(partitions=4)
    producer = KafkaEventProducer(kafka_settings(kafka_broker), topic=topic)
    await producer.start()
    try:
        await enqueue(sqs_client, sqs_queue, webhook_message("11c_batch_mixed_with_statuses"))
        bridge = make_bridge(sqs_client, sqs_settings(sqs_queue), producer)
        assert await bridge.poll_once() == 1
    finally:
        await producer.stop()

    records = await consume_all(kafka_broker.bootstrap_servers, topic, expected=3)
    events = [InboundEvent.decode(r.value) for r in records]
    assert sorted(e.kind.value for e in events) == ["message", "message", "status"]
    for record, event in zip(records, events, strict=True):
        assert record.key.decode() == event.key
        assert event.key.startswith(f"{ORG}:106540352242922:")
        assert event.correlation_id == "cid-11c_batch_mixed_with_statuses"
        assert dict(record.headers)[HEADER_EVENT_TIME]
    # The same contact's events share a key, so a partition: the conversation stays in order.
    by_contact = {e.key.rsplit(":", 1)[1] for e in events}
    assert by_contact <= {"919812345678", "447700900123"}
    assert await queue_depth(sqs_client, sqs_queue.url) == 0


async def test_every_fixture_event_is_forwarded_and_the_queue_emptied(
    kafka_broker: TansuBroker,
    kafka_topic: KafkaTopicFactory,
    sqs_queue: SqsQueue,
    sqs_client: Any,
) -> None:
    from tests.fixtures.whatsapp.corpus import fixture_names

    names = [n for n in fixture_names(signed_only=True) if load_fixture(n).events]
    expected = sum(len(load_fixture(n).events) for n in names)
    topic = await kafka_topic(partitions=4)
    producer = KafkaEventProducer(kafka_settings(kafka_broker), topic=topic)
    await producer.start()
    try:
        for name in names:
            await enqueue(sqs_client, sqs_queue, webhook_message(name))
        bridge = make_bridge(sqs_client, sqs_settings(sqs_queue), producer, wait_time_s=1)
        handled = 0
        while handled < len(names):
            handled += await bridge.poll_once()
    finally:
        await producer.stop()
    records = await consume_all(kafka_broker.bootstrap_servers, topic, expected=expected)
    assert len(records) == expected
    assert await queue_depth(sqs_client, sqs_queue.url) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("this is not json at all", "not_a_webhook_message"),
        (json.dumps({"hello": "world"}), "not_a_webhook_message"),
        (
            SqsWebhookMessage.wrap(
                b'{"object": "whatsapp_business_account", "entry": [', correlation_id="c"
            ).encode(),
            "unparseable_body",
        ),
    ],
)
async def test_unusable_bodies_go_to_the_dead_letter_queue_once(
    kafka_broker: TansuBroker,
    kafka_topic: KafkaTopicFactory,
    sqs_queue: SqsQueue,
    sqs_client: Any,
    body: str,
    reason: str,
) -> None:
    topic = await kafka_topic(partitions=1)
    producer = KafkaEventProducer(kafka_settings(kafka_broker), topic=topic)
    await producer.start()
    try:
        await enqueue(sqs_client, sqs_queue, body)
        bridge = make_bridge(sqs_client, sqs_settings(sqs_queue), producer)
        assert await bridge.poll_once() == 1
    finally:
        await producer.stop()
    assert await queue_depth(sqs_client, sqs_queue.url) == 0
    dead = await sqs_client.receive_message(
        QueueUrl=sqs_queue.dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    (message,) = dead["Messages"]
    assert message["Body"] == body
    assert message["MessageAttributes"]["reason"]["StringValue"] == reason


async def test_unknown_phone_number_is_dead_lettered_not_retried_forever(
    kafka_broker: TansuBroker,
    kafka_topic: KafkaTopicFactory,
    sqs_queue: SqsQueue,
    sqs_client: Any,
) -> None:
    raw = (
        load_fixture("01_text_en")
        .raw.replace(b"106540352242922", b"999999999999999")
        .replace(b"102290129340398", b"888888888888888")
    )
    topic = await kafka_topic(partitions=1)
    producer = KafkaEventProducer(kafka_settings(kafka_broker), topic=topic)
    await producer.start()
    try:
        await enqueue(
            sqs_client, sqs_queue, SqsWebhookMessage.wrap(raw, correlation_id="c").encode()
        )
        # Two organisations served: the default route is ambiguous, so it must not guess.
        router = OrganisationRouter(
            [
                *CHANNELS,
                CHANNELS[0].model_copy(update={"phone_number_id": "2", "organisation_id": "other"}),
            ]
        )
        bridge = Bridge(
            BridgeConfig.from_settings(sqs_settings(sqs_queue)), sqs_client, producer, router
        )
        await bridge.poll_once()
    finally:
        await producer.stop()
    dead = await sqs_client.receive_message(
        QueueUrl=sqs_queue.dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    assert dead["Messages"][0]["MessageAttributes"]["reason"]["StringValue"] == "unroutable"


async def test_kafka_down_keeps_messages_in_sqs_and_catches_up_when_it_returns(
    tmp_path: Path, sqs_queue: SqsQueue, sqs_client: Any
) -> None:
    # The broker keeps its data in S3 (a moto of its own) so that, like a real cluster, it comes
    # back with its topic: an in-memory broker would return empty, and the bridge's retries would
    # race the test re-creating the topic.
    moto = MotoServer(log_file=tmp_path / "moto.log")
    moto.start()
    storage = S3Storage(endpoint_url=moto.endpoint_url)
    broker = TansuBroker(log_file=tmp_path / "tansu.log", s3=storage)
    broker.start()
    topic = "bridge-outage"
    await create_topic(broker.bootstrap_servers, topic, 2)
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False)
    producer = KafkaEventProducer(settings, topic=topic)
    await producer.start()
    broker.stop()  # the broker goes away after the bridge connected

    for i in range(3):
        raw = load_fixture("01_text_en").raw.replace(b"wamid.", f"wamid.OUTAGE{i}".encode())
        await enqueue(
            sqs_client, sqs_queue, SqsWebhookMessage.wrap(raw, correlation_id=f"c{i}").encode()
        )
    bridge = make_bridge(
        sqs_client,
        sqs_settings(sqs_queue),
        producer,
        wait_time_s=1,
        visibility_timeout_s=3,
        retry_initial_s=0.2,
        retry_max_s=0.5,
    )
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.sleep(6)  # two visibility timeouts: extensions must keep them ours
        assert not task.done()
        # Nothing deleted, nothing dead-lettered during the outage.
        assert await queue_depth(sqs_client, sqs_queue.url) == 3
        assert await queue_depth(sqs_client, sqs_queue.dlq_url) == 0

        restarted = TansuBroker(log_file=tmp_path / "tansu2.log", port=broker.port, s3=storage)
        restarted.start()
        try:
            async with asyncio.timeout(60):
                while await queue_depth(sqs_client, sqs_queue.url):
                    await asyncio.sleep(0.25)
            records = await consume_all(restarted.bootstrap_servers, topic, expected=3)
            assert sorted(InboundEvent.decode(r.value).correlation_id for r in records) == [
                "c0",
                "c1",
                "c2",
            ]
        finally:
            bridge.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await producer.stop()
            restarted.stop()
    finally:
        if not task.done():
            task.cancel()
        moto.stop()


async def test_an_sqs_outage_does_not_end_the_bridge(
    kafka_broker: TansuBroker, kafka_topic: KafkaTopicFactory, sqs_queue: SqsQueue
) -> None:
    """The queue endpoint fails for a while (throttling, a restart): the loop keeps going and
    forwards what arrives once SQS answers again."""

    class FlakySqs:
        def __init__(self, real: Any, failures: int) -> None:
            self.real = real
            self.failures = failures

        async def receive_message(self, **kwargs: Any) -> dict[str, Any]:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("SQS endpoint unreachable")
            result: dict[str, Any] = await self.real.receive_message(**kwargs)
            return result

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    topic = await kafka_topic(partitions=1)
    producer = KafkaEventProducer(kafka_settings(kafka_broker), topic=topic)
    await producer.start()
    async with get_session().create_client(
        "sqs", **sqs_client_kwargs(sqs_settings(sqs_queue))
    ) as real:
        await enqueue(real, sqs_queue, webhook_message("01_text_en"))
        bridge = make_bridge(
            FlakySqs(real, failures=3),
            sqs_settings(sqs_queue),
            producer,
            wait_time_s=1,
            retry_initial_s=0.05,
        )
        task = asyncio.create_task(bridge.run())
        try:
            records = await consume_all(kafka_broker.bootstrap_servers, topic, expected=1)
        finally:
            bridge.stop()
            await asyncio.wait_for(task, timeout=10)
            await producer.stop()
    assert InboundEvent.decode(records[0].value).correlation_id == "cid-01_text_en"
