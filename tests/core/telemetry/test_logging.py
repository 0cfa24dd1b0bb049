"""Logs are JSON, carry the correlation id, and keep personal data out of info level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from funnel.core.settings import LogFormat, ObservabilitySettings
from funnel.core.telemetry import bind_context, configure_logging, get_logger

JsonLogs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_logs() -> Iterator[JsonLogs]:
    stream = io.StringIO()
    configure_logging(
        ObservabilitySettings(log_level="DEBUG", log_format=LogFormat.JSON),
        service="receiver",
        stream=stream,
    )
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    logging.getLogger().handlers.clear()


def test_one_json_object_per_line_with_service_and_event(json_logs: JsonLogs) -> None:
    get_logger("funnel.test").info("webhook.accepted", extra={"events": 3})
    (record,) = json_logs()
    assert record["event"] == "webhook.accepted"
    assert record["level"] == "INFO"
    assert record["service"] == "receiver"
    assert record["events"] == 3


def test_correlation_id_follows_the_bound_block(json_logs: JsonLogs) -> None:
    log = get_logger("funnel.test")
    with bind_context("abc123", partition=4):
        log.info("message.ingested")
        with bind_context(wamid_hint="w1"):
            log.info("pipeline.started")
    log.info("idle")
    inside, nested, outside = json_logs()
    assert inside["correlation_id"] == "abc123"
    assert inside["partition"] == 4
    assert nested["correlation_id"] == "abc123"
    assert nested["wamid_hint"] == "w1"
    assert "correlation_id" not in outside


def test_new_correlation_id_is_minted_when_none_given() -> None:
    with bind_context() as first, bind_context() as inner:
        assert first == inner  # nested blocks keep the message's id
    with bind_context() as second:
        assert second != first


def test_message_text_and_phone_numbers_are_masked_at_info(json_logs: JsonLogs) -> None:
    log = get_logger("funnel.test")
    log.info("message.received", extra={"text": "my card is 4111", "wa_id": "919812345678"})
    log.debug("message.received.debug", extra={"text": "visible at debug"})
    info, debug = json_logs()
    assert "4111" not in json.dumps(info)
    assert "919812345678" not in json.dumps(info)
    assert info["text"] == "<redacted:15>"
    assert debug["text"] == "visible at debug"
