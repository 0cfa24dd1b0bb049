"""The SQS message the receiver enqueues and the bridge consumes.

The body is JSON carrying the webhook bytes in base64, so the bridge sees exactly what Meta
signed (or, for a body split because it was too big, our re-serialisation of some of its
events). The signature was checked in the receiver against the channel's app secret; the message
says so with ``signature_verified`` and no secret ever travels through the queue.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: SQS's classic per-message (and per-batch) limit. Settings may lower or raise it per queue.
SQS_MAX_MESSAGE_BYTES = 262_144
#: SendMessageBatch takes at most this many entries.
SQS_MAX_BATCH_ENTRIES = 10
CONTRACT_VERSION: Literal[1] = 1


class ContractError(ValueError):
    """A queue message that is not one of ours, or not a version we read."""


class SqsWebhookMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    version: Literal[1] = CONTRACT_VERSION
    correlation_id: str
    received_at: datetime
    #: ``value.metadata.phone_number_id`` of every change in the body, in body order.
    phone_number_ids: list[str] = Field(default_factory=list)
    #: Known from the channel configuration when every phone number in the body maps to one.
    organisation_id: str | None = None
    raw_body_b64: str
    #: Always true on the main queue: the receiver enqueues nothing it has not verified.
    signature_verified: bool = True
    #: Set when the body is one of several parts of a webhook too big for one message. The
    #: bytes are then our re-serialisation of some of its events, not Meta's bytes.
    part: int | None = None
    parts: int | None = None
    #: Set on messages sent to the dead-letter queue: why the body could not be used.
    dead_letter_reason: str | None = None

    @classmethod
    def wrap(
        cls,
        raw_body: bytes,
        *,
        correlation_id: str,
        received_at: datetime | None = None,
        phone_number_ids: list[str] | None = None,
        organisation_id: str | None = None,
        part: int | None = None,
        parts: int | None = None,
        dead_letter_reason: str | None = None,
    ) -> SqsWebhookMessage:
        return cls(
            correlation_id=correlation_id,
            received_at=received_at or datetime.now(UTC),
            phone_number_ids=phone_number_ids or [],
            organisation_id=organisation_id or None,
            raw_body_b64=base64.b64encode(raw_body).decode("ascii"),
            part=part,
            parts=parts,
            dead_letter_reason=dead_letter_reason,
        )

    @property
    def raw_body(self) -> bytes:
        return base64.b64decode(self.raw_body_b64, validate=True)

    @property
    def is_split(self) -> bool:
        return self.parts is not None

    def encode(self) -> str:
        """The SQS ``MessageBody``: compact JSON, ASCII only."""
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def decode(cls, body: str | bytes) -> SqsWebhookMessage:
        try:
            message = cls.model_validate_json(body)
            message.raw_body  # noqa: B018 - reject bad base64 here, not at first use
        except (ValidationError, binascii.Error, ValueError) as exc:
            raise ContractError(f"not a Funnel webhook message: {exc}") from exc
        return message


def encoded_size(body: str) -> int:
    """Bytes SQS counts for a message body (UTF-8)."""
    return len(body.encode("utf-8"))


def fits(body: str, limit: int = SQS_MAX_MESSAGE_BYTES) -> bool:
    return encoded_size(body) <= limit


def max_raw_bytes(limit: int = SQS_MAX_MESSAGE_BYTES, overhead: int = 1_024) -> int:
    """The largest raw body that fits in a message once base64 and the JSON fields are added."""
    return (limit - overhead) * 3 // 4
