"""The Kafka half of the harness speaks real Kafka: partitioning, consumer groups, commits."""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from funnel.core.devstack.kafka import S3Storage, TansuBroker, create_topic, metadata_ready
from funnel.core.devstack.process import tcp_ready
from funnel.core.devstack.sqs import MotoServer
from tests.fixtures.kafka import KafkaTopicFactory, consumer_options, unique_group

pytestmark = pytest.mark.kafka

KEYS = [f"tenant-1:phone-1:contact-{i}".encode() for i in range(12)]
PER_KEY = 5


async def _produce_keyed(bootstrap: str, topic: str) -> dict[bytes, set[int]]:
    """Produce ``PER_KEY`` messages per key (value ``key#n``); return each key's partitions."""
    partitions: dict[bytes, set[int]] = collections.defaultdict(set)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(PER_KEY):
            for key in KEYS:
                metadata = await producer.send_and_wait(topic, key=key, value=key + b"#%d" % n)
                partitions[key].add(metadata.partition)
    finally:
        await producer.stop()
    return partitions


async def _consume(
    consumer: AIOKafkaConsumer, count: int, *, timeout_s: float = 15.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read until ``count`` records arrived, then wait a little longer to catch any extra."""
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = asyncio.get_running_loop().time() + timeout_s
    while len(records) < count and asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for batch in batches.values():
            records.extend(batch)
    batches = await consumer.getmany(timeout_ms=500)
    for batch in batches.values():
        records.extend(batch)
    return records


async def test_same_key_same_partition_and_group_resumes_from_commit(
    kafka_broker: TansuBroker, kafka_topic: KafkaTopicFactory
) -> None:
    topic = await kafka_topic(partitions=4)
    partitions = await _produce_keyed(kafka_broker.bootstrap_servers, topic)

    assert all(len(p) == 1 for p in partitions.values()), partitions
    assert len(set().union(*partitions.values())) > 1, "every key landed on one partition"

    group = unique_group()
    first = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_broker.bootstrap_servers,
        group_id=group,
        **consumer_options(),
    )
    await first.start()
    try:
        records = await _consume(first, len(KEYS) * PER_KEY)
        assert len(records) == len(KEYS) * PER_KEY
        by_partition: dict[int, list[ConsumerRecord[bytes, bytes]]] = collections.defaultdict(list)
        for record in records:
            by_partition[record.partition].append(record)
        # Within a key, order is production order.
        for key in KEYS:
            values = [r.value for r in records if r.key == key]
            assert values == [key + b"#%d" % n for n in range(PER_KEY)]
        # "Process" the first half of each partition and commit just that.
        processed: set[tuple[int, int]] = set()
        offsets: dict[TopicPartition, int] = {}
        for partition, batch in by_partition.items():
            batch.sort(key=lambda r: r.offset)
            half = batch[: len(batch) // 2]
            processed.update((r.partition, r.offset) for r in half)
            offsets[TopicPartition(topic, partition)] = batch[len(batch) // 2].offset
        await first.commit(offsets)
    finally:
        await first.stop()

    second = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_broker.bootstrap_servers,
        group_id=group,
        **consumer_options(),
    )
    await second.start()
    try:
        expected = {(r.partition, r.offset) for r in records} - processed
        resumed = await _consume(second, len(expected))
    finally:
        await second.stop()
    assert {(r.partition, r.offset) for r in resumed} == expected
    assert len(resumed) == len(expected), "a record was delivered twice"


async def test_stopped_broker_refuses_connections(tmp_path: Path) -> None:
    broker = TansuBroker(log_file=tmp_path / "tansu.log")
    broker.start()
    try:
        assert await metadata_ready(broker.bootstrap_servers)
    finally:
        broker.stop()
    assert not broker.alive()
    assert not tcp_ready("127.0.0.1", broker.port)
    assert not await metadata_ready(broker.bootstrap_servers)


async def test_s3_storage_survives_a_broker_restart(tmp_path: Path) -> None:
    # A moto of its own, so nothing else resets the bucket under the broker.
    moto = MotoServer(log_file=tmp_path / "moto.log")
    moto.start()
    try:
        storage = S3Storage(endpoint_url=moto.endpoint_url)
        broker = TansuBroker(log_file=tmp_path / "tansu-1.log", s3=storage)
        broker.start()
        try:
            await create_topic(broker.bootstrap_servers, "restart", 2)
            await _produce_keyed(broker.bootstrap_servers, "restart")
        finally:
            broker.stop()

        again = TansuBroker(log_file=tmp_path / "tansu-2.log", s3=storage)
        again.start()
        try:
            consumer = AIOKafkaConsumer(
                "restart",
                bootstrap_servers=again.bootstrap_servers,
                group_id=unique_group(),
                **consumer_options(),
            )
            await consumer.start()
            try:
                records = await _consume(consumer, len(KEYS) * PER_KEY)
            finally:
                await consumer.stop()
        finally:
            again.stop()
    finally:
        moto.stop()
    assert sorted(r.value for r in records) == sorted(
        key + b"#%d" % n for key in KEYS for n in range(PER_KEY)
    )
