"""Kafka consumption: per-conversation order, many conversations at once, safe commits."""

from funnel.pipeline.consumer.dispatch import KeyedDispatcher, PartitionOffsets, Record
from funnel.pipeline.consumer.kafka import ConsumerConfig, KafkaWorker

__all__ = ["ConsumerConfig", "KafkaWorker", "KeyedDispatcher", "PartitionOffsets", "Record"]
