"""The bridge: SQS → Kafka, one event per WhatsApp message, status or change.

Each SQS message holds a verified webhook body. The bridge splits it into its events (every
entry × change × message/status), produces each to the deployment's topic keyed by conversation,
and deletes the SQS message only after Kafka acknowledged every event in it (``acks=all``).

Two failure modes are kept apart on purpose:

* A body that can never be used (not our contract, not JSON, no organisation for its phone
  number) goes to the dead-letter queue with the reason and is deleted from the main queue at
  once: redelivering it would never succeed.
* Kafka being unavailable is temporary. The bridge then holds the batch it has, keeps extending
  the messages' visibility, retries with backoff and receives nothing new, so SQS's receive count
  does not climb towards the redrive limit: nothing is lost and nothing is dead-lettered for an
  outage. When the broker returns the bridge catches up from the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Histogram

from funnel.core.contracts.events import InboundEvent
from funnel.core.contracts.sqs import ContractError, SqsWebhookMessage
from funnel.core.settings import KafkaSettings, Settings, SqsSettings, WhatsAppChannelConfig
from funnel.core.telemetry import bind_context
from funnel.core.whatsapp.webhook import WebhookEvent, WebhookParseError, split_events

log = logging.getLogger(__name__)

SQS_MESSAGES = Counter(
    "funnel_bridge_sqs_messages_total",
    "SQS messages handled by the bridge, by outcome (forwarded, dead_lettered).",
    ["outcome"],
)
EVENTS_PRODUCED = Counter(
    "funnel_bridge_events_produced_total", "Events acknowledged by Kafka, by kind.", ["kind"]
)
DEAD_LETTERS = Counter(
    "funnel_bridge_dead_letters_total",
    "Bodies sent to the dead-letter queue, by reason.",
    ["reason"],
)
KAFKA_FAILURES = Counter(
    "funnel_bridge_kafka_failures_total", "Attempts to produce a batch that Kafka did not take."
)
SQS_FAILURES = Counter(
    "funnel_bridge_sqs_failures_total", "SQS calls that failed; the bridge backs off and retries."
)
PRODUCE_SECONDS = Histogram(
    "funnel_bridge_produce_seconds",
    "Time from receiving an SQS batch to Kafka acknowledging all its events.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class SqsClient(Protocol):
    """The part of aiobotocore's SQS client the bridge uses."""

    async def receive_message(self, **kwargs: Any) -> dict[str, Any]: ...
    async def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]: ...
    async def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]: ...
    async def send_message(self, **kwargs: Any) -> dict[str, Any]: ...


class EventProducer(Protocol):
    async def produce(self, events: list[InboundEvent]) -> None:
        """Return once Kafka has acknowledged every event; raise if it did not."""


class KafkaEventProducer:
    """aiokafka with ``acks=all``; idempotence only where the broker supports it (a setting)."""

    def __init__(self, settings: KafkaSettings, topic: str | None = None) -> None:
        self.topic = topic or settings.inbound_topic
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            acks="all",
            enable_idempotence=settings.enable_idempotence,
            linger_ms=5,
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def produce(self, events: list[InboundEvent]) -> None:
        futures = [
            await self._producer.send(
                self.topic, value=e.encode(), key=e.key_bytes(), headers=e.headers()
            )
            for e in events
        ]
        await asyncio.gather(*futures)


@dataclass
class _Received:
    receipt_handle: str
    message_id: str
    events: list[InboundEvent] = field(default_factory=list)


@dataclass(frozen=True)
class BridgeConfig:
    queue_url: str
    dead_letter_queue_url: str
    wait_time_s: int = 20
    visibility_timeout_s: int = 60
    batch_size: int = 10
    #: Backoff while Kafka refuses: starts here, doubles, capped.
    retry_initial_s: float = 0.5
    retry_max_s: float = 15.0

    @classmethod
    def from_settings(cls, sqs: SqsSettings) -> BridgeConfig:
        return cls(
            queue_url=sqs.queue_url,
            dead_letter_queue_url=sqs.dead_letter_queue_url,
            wait_time_s=sqs.wait_time_s,
            visibility_timeout_s=sqs.visibility_timeout_s,
        )


class Unroutable(ValueError):
    """An event whose organisation cannot be told from the deployment's channels."""


class OrganisationRouter:
    """Which organisation an event belongs to, from the channels this deployment serves."""

    def __init__(self, channels: list[WhatsAppChannelConfig], default: str | None = None) -> None:
        self._by_phone = {
            c.phone_number_id: c.organisation_id for c in channels if c.organisation_id
        }
        self._by_waba = {
            c.waba_id: c.organisation_id for c in channels if c.waba_id and c.organisation_id
        }
        orgs = set(self._by_phone.values())
        # A per-tenant deployment serves one organisation: WABA-level changes belong to it.
        self._default = default or (orgs.pop() if len(orgs) == 1 else None)

    def organisation_for(self, event: WebhookEvent, hint: str | None) -> str:
        if event.phone_number_id and event.phone_number_id in self._by_phone:
            return self._by_phone[event.phone_number_id]
        if event.waba_id in self._by_waba:
            return self._by_waba[event.waba_id]
        if hint:
            return hint
        if self._default:
            return self._default
        raise Unroutable(
            f"no organisation for phone_number_id={event.phone_number_id} waba={event.waba_id}"
        )


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        sqs: SqsClient,
        producer: EventProducer,
        router: OrganisationRouter,
    ) -> None:
        self.config = config
        self.sqs = sqs
        self.producer = producer
        self.router = router
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Poll until stopped. An SQS error (throttling, a network blip, an endpoint restarting)
        never ends the loop: nothing was deleted, so nothing is lost, and polling resumes after
        a backoff."""
        delay = self.config.retry_initial_s
        while not self._stopping.is_set():
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                SQS_FAILURES.inc()
                log.warning(
                    "bridge.sqs_unavailable",
                    extra={"retry_in_s": round(delay, 2), "error": repr(exc)[:300]},
                )
                await asyncio.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter
                delay = min(delay * 2, self.config.retry_max_s)
                continue
            delay = self.config.retry_initial_s

    async def poll_once(self) -> int:
        """Receive one batch, forward it, delete it. Returns the number of SQS messages."""
        response = await self.sqs.receive_message(
            QueueUrl=self.config.queue_url,
            MaxNumberOfMessages=self.config.batch_size,
            WaitTimeSeconds=self.config.wait_time_s,
            VisibilityTimeout=self.config.visibility_timeout_s,
            AttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        started = time.monotonic()
        forward: list[_Received] = []
        for raw in messages:
            received = await self._unpack(raw)
            if received is not None:
                forward.append(received)
        if forward:
            await self._produce_until_acknowledged(forward)
            await self._delete(forward)
            PRODUCE_SECONDS.observe(time.monotonic() - started)
        return len(messages)

    async def _unpack(self, raw: Mapping[str, Any]) -> _Received | None:
        """Decode and split one SQS message; dead-letter it when it can never be used."""
        handle = raw["ReceiptHandle"]
        try:
            message = SqsWebhookMessage.decode(raw["Body"])
        except ContractError as exc:
            await self._dead_letter(raw, "not_a_webhook_message", str(exc))
            return None
        with bind_context(message.correlation_id):
            if message.dead_letter_reason:
                # The receiver already judged it unusable but it reached the main queue.
                await self._dead_letter(raw, "receiver_rejected", message.dead_letter_reason)
                return None
            try:
                events = split_events(message.raw_body)
            except WebhookParseError as exc:
                await self._dead_letter(raw, "unparseable_body", str(exc))
                return None
            try:
                inbound = [
                    InboundEvent.from_webhook_event(
                        e,
                        organisation_id=self.router.organisation_for(e, message.organisation_id),
                        correlation_id=message.correlation_id,
                        received_at=message.received_at,
                    )
                    for e in events
                ]
            except (Unroutable, ValueError) as exc:
                await self._dead_letter(raw, "unroutable", str(exc))
                return None
            log.info(
                "bridge.split",
                extra={"events": len(inbound), "part": message.part, "parts": message.parts},
            )
        return _Received(receipt_handle=handle, message_id=raw["MessageId"], events=inbound)

    async def _produce_until_acknowledged(self, batch: list[_Received]) -> None:
        events = [e for r in batch for e in r.events]
        if not events:  # e.g. a webhook with an empty entry list: nothing to forward
            return
        delay = self.config.retry_initial_s
        last_extended = time.monotonic()
        while True:
            try:
                await self.producer.produce(events)
            except Exception as exc:
                KAFKA_FAILURES.inc()
                log.warning(
                    "bridge.kafka_unavailable",
                    extra={
                        "events": len(events),
                        "retry_in_s": round(delay, 2),
                        "error": repr(exc),
                    },
                )
                if self._stopping.is_set():
                    # Shutting down: leave the messages to become visible again.
                    raise
                await asyncio.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter
                delay = min(delay * 2, self.config.retry_max_s)
                if time.monotonic() - last_extended > self.config.visibility_timeout_s / 3:
                    await self._extend_visibility(batch)
                    last_extended = time.monotonic()
                continue
            for event in events:
                EVENTS_PRODUCED.labels(kind=event.kind.value).inc()
            return

    async def _extend_visibility(self, batch: list[_Received]) -> None:
        with contextlib.suppress(Exception):
            await self.sqs.change_message_visibility_batch(
                QueueUrl=self.config.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": r.receipt_handle,
                        "VisibilityTimeout": self.config.visibility_timeout_s,
                    }
                    for i, r in enumerate(batch)
                ],
            )

    async def _delete(self, batch: list[_Received]) -> None:
        response = await self.sqs.delete_message_batch(
            QueueUrl=self.config.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": r.receipt_handle} for i, r in enumerate(batch)
            ],
        )
        failed = response.get("Failed", [])
        if failed:
            # Harmless: the message comes back and its events are produced again, and every
            # effect downstream is idempotent on the event id.
            log.warning("bridge.delete_failed", extra={"failed": len(failed)})
        SQS_MESSAGES.labels(outcome="forwarded").inc(len(batch) - len(failed))

    async def _dead_letter(self, raw: Mapping[str, Any], reason: str, detail: str) -> None:
        DEAD_LETTERS.labels(reason=reason).inc()
        log.warning("bridge.dead_letter", extra={"reason": reason, "message_id": raw["MessageId"]})
        await self.sqs.send_message(
            QueueUrl=self.config.dead_letter_queue_url,
            MessageBody=raw["Body"],
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason},
                "detail": {"DataType": "String", "StringValue": detail[:1000] or reason},
                "source_message_id": {"DataType": "String", "StringValue": raw["MessageId"]},
            },
        )
        await self.sqs.delete_message_batch(
            QueueUrl=self.config.queue_url,
            Entries=[{"Id": "0", "ReceiptHandle": raw["ReceiptHandle"]}],
        )
        SQS_MESSAGES.labels(outcome="dead_lettered").inc()


def sqs_client_kwargs(sqs: SqsSettings) -> dict[str, Any]:
    """Arguments for aiobotocore's ``create_client("sqs", …)``; empty credentials mean the
    default chain (instance profile, IRSA)."""
    kwargs: dict[str, Any] = {"region_name": sqs.region}
    if sqs.endpoint_url:
        kwargs["endpoint_url"] = sqs.endpoint_url
    if sqs.access_key_id.get_secret_value():
        kwargs["aws_access_key_id"] = sqs.access_key_id.get_secret_value()
        kwargs["aws_secret_access_key"] = sqs.secret_access_key.get_secret_value()
    return kwargs


async def run_bridge(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run the bridge until ``stop`` is set (or forever): the ``funnel receiver bridge`` body."""
    from aiobotocore.session import get_session

    if not settings.sqs.queue_url or not settings.sqs.dead_letter_queue_url:
        raise SystemExit(
            "the bridge needs FUNNEL_SQS__QUEUE_URL and FUNNEL_SQS__DEAD_LETTER_QUEUE_URL"
        )
    producer = KafkaEventProducer(settings.kafka)
    await producer.start()
    try:
        async with get_session().create_client("sqs", **sqs_client_kwargs(settings.sqs)) as sqs:
            bridge = Bridge(
                BridgeConfig.from_settings(settings.sqs),
                sqs,
                producer,
                OrganisationRouter(settings.whatsapp.channels),
            )
            task = asyncio.create_task(bridge.run())
            if stop is None:
                await task
                return
            await stop.wait()
            bridge.stop()
            # Cancel at once rather than wait out a 20 s long poll: cancelling is safe at any
            # point, since a message is deleted only after its events were acknowledged, and a
            # message whose events were produced but not deleted is produced again, harmlessly.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await producer.stop()
