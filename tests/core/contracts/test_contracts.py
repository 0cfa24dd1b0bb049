from __future__ import annotations

import json

import pytest

from funnel.core.contracts.events import HEADER_CORRELATION_ID, InboundEvent, header_value
from funnel.core.contracts.sqs import (
    SQS_MAX_MESSAGE_BYTES,
    ContractError,
    SqsWebhookMessage,
    fits,
    max_raw_bytes,
)
from funnel.core.contracts.topics import dead_letter_topic, inbound_topic
from funnel.core.whatsapp.webhook import EventKind, split_events
from tests.fixtures.whatsapp.corpus import load_fixture


def test_sqs_message_carries_the_exact_bytes() -> None:
    raw = load_fixture("02a_text_hi_devanagari").raw
    message = SqsWebhookMessage.wrap(raw, correlation_id="c1", phone_number_ids=["1"])
    body = message.encode()
    assert body.isascii()
    decoded = SqsWebhookMessage.decode(body)
    assert decoded.raw_body == raw
    assert decoded.signature_verified is True
    assert decoded.is_split is False
    assert "secret" not in body


@pytest.mark.parametrize(
    "body",
    ["", "{}", '{"version": 2, "correlation_id": "c", "received_at": "2026-01-01T00:00:00Z"}',
     json.dumps({"correlation_id": "c", "received_at": "2026-01-01T00:00:00Z",
                 "raw_body_b64": "***"})],
)  # fmt: skip
def test_foreign_sqs_messages_are_rejected(body: str) -> None:
    with pytest.raises(ContractError):
        SqsWebhookMessage.decode(body)


def test_size_helpers_leave_room_for_the_wrapper() -> None:
    raw = b"x" * max_raw_bytes()
    assert fits(SqsWebhookMessage.wrap(raw, correlation_id="c" * 32).encode())
    assert not fits(SqsWebhookMessage.wrap(raw + b"x" * 2048, correlation_id="c").encode())
    assert max_raw_bytes(SQS_MAX_MESSAGE_BYTES) < SQS_MAX_MESSAGE_BYTES


def test_inbound_event_round_trip_and_headers() -> None:
    (webhook_event,) = split_events(load_fixture("03_text_emoji_only").raw)
    event = InboundEvent.from_webhook_event(
        webhook_event, organisation_id="org1", correlation_id="c9"
    )
    decoded = InboundEvent.decode(event.encode())
    assert decoded == event
    assert decoded.kind is EventKind.MESSAGE
    assert decoded.key == "org1:106540352242922:919812345678"
    assert decoded.key_bytes() == event.key.encode()
    assert decoded.webhook_event().raw == webhook_event.raw
    assert header_value(decoded.headers(), HEADER_CORRELATION_ID) == "c9"
    with pytest.raises(ContractError):
        InboundEvent.decode(b"{")


def test_topic_names() -> None:
    assert inbound_topic() == "funnel.inbound"
    assert inbound_topic("org 1/é") == "funnel.inbound.org-1--"
    assert dead_letter_topic(inbound_topic("a")) == "funnel.inbound.a.dlq"
    with pytest.raises(ValueError, match="topic"):
        inbound_topic("x" * 300)
