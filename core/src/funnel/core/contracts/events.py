"""The Kafka event the bridge produces: one per :class:`~funnel.core.whatsapp.webhook.WebhookEvent`.

The value is JSON carrying the event as a one-event webhook body (Meta's shape), so the worker
reads it with the same models as the receiver and bridge. The key is the conversation key, so
one conversation's events share a partition. A few fields are copied into Kafka headers so that
consumer middleware can route, trace and dead-letter without decoding the value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from funnel.core.contracts.sqs import ContractError
from funnel.core.whatsapp.webhook import EventKind, WebhookEvent, event_key, split_events

EVENT_VERSION: Literal[1] = 1
HEADER_VERSION = "funnel-version"
HEADER_KIND = "funnel-kind"
HEADER_EVENT_ID = "funnel-event-id"
HEADER_CORRELATION_ID = "x-correlation-id"
HEADER_ORGANISATION = "funnel-organisation"
#: WhatsApp's timestamp of the event in Unix seconds: the worker orders a key's events by it.
HEADER_EVENT_TIME = "funnel-event-time"

KafkaHeaders = list[tuple[str, bytes]]


class InboundEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    version: Literal[1] = EVENT_VERSION
    kind: EventKind
    key: str
    #: Dedup id: the wamid for messages, ``wamid:status`` for statuses, a digest for changes.
    event_id: str
    organisation_id: str
    phone_number_id: str | None = None
    waba_id: str
    field: str
    #: WhatsApp's time for the event: ordering and the 24-hour window use this, not ours.
    whatsapp_timestamp: datetime | None = None
    received_at: datetime
    correlation_id: str
    #: A webhook body in Meta's shape holding this event alone.
    payload: dict[str, Any]

    @classmethod
    def from_webhook_event(
        cls,
        event: WebhookEvent,
        *,
        organisation_id: str,
        correlation_id: str,
        received_at: datetime | None = None,
    ) -> InboundEvent:
        return cls(
            kind=event.kind,
            key=event_key(organisation_id, event),
            event_id=event.event_id,
            organisation_id=organisation_id,
            phone_number_id=event.phone_number_id,
            waba_id=event.waba_id,
            field=event.field,
            whatsapp_timestamp=event.timestamp,
            received_at=received_at or datetime.now(UTC),
            correlation_id=correlation_id,
            payload=event.envelope(),
        )

    def webhook_event(self) -> WebhookEvent:
        """The event parsed back out of :attr:`payload`."""
        events = split_events(self.payload)
        if len(events) != 1:
            raise ContractError(f"payload holds {len(events)} events, expected 1")
        return events[0]

    def key_bytes(self) -> bytes:
        return self.key.encode("utf-8")

    def encode(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    @classmethod
    def decode(cls, value: bytes | str) -> InboundEvent:
        try:
            return cls.model_validate_json(value)
        except (ValidationError, json.JSONDecodeError) as exc:
            raise ContractError(f"not a Funnel inbound event: {exc}") from exc

    def headers(self) -> KafkaHeaders:
        headers = [
            (HEADER_VERSION, str(self.version).encode()),
            (HEADER_KIND, self.kind.value.encode()),
            (HEADER_EVENT_ID, self.event_id.encode()),
            (HEADER_CORRELATION_ID, self.correlation_id.encode()),
            (HEADER_ORGANISATION, self.organisation_id.encode()),
        ]
        if self.whatsapp_timestamp is not None:
            headers.append(
                (HEADER_EVENT_TIME, f"{self.whatsapp_timestamp.timestamp():.3f}".encode())
            )
        return headers


def header_value(headers: KafkaHeaders | None, name: str) -> str | None:
    """The first header called ``name``, decoded; aiokafka gives headers as a tuple list."""
    for key, value in headers or ():
        if key == name:
            return value.decode("utf-8", errors="replace")
    return None
