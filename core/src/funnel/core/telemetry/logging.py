"""JSON logging on the standard library.

``log.info("message.ingested", extra={"wamid": ..., "partition": ...})`` produces one JSON
object per line with the event name, level, logger, service, the bound correlation id and the
extra fields. Message text, tokens and phone numbers never go to info level: fields whose name
says they carry such data are masked by :class:`RedactingFilter` unless the record is DEBUG.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from funnel.core.settings import LogFormat, ObservabilitySettings
from funnel.core.telemetry.context import correlation_id, current_fields

#: Field names whose values are personal data or secrets. Masked above DEBUG.
SENSITIVE_FIELDS = frozenset(
    {
        "text",
        "body",
        "message_text",
        "content",
        "phone",
        "wa_id",
        "contact",
        "to",
        "from",
        "recipient",
        "token",
        "access_token",
        "app_secret",
        "password",
        "authorization",
        "api_key",
        "secret",
    }
)
_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


def mask(value: Any) -> str:
    """A stable, non-reversible hint of a value (its length), enough to correlate by eye."""
    text = str(value)
    return f"<redacted:{len(text)}>"


class ContextFilter(logging.Filter):
    """Adds the service name, the correlation id and the bound context fields to each record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        cid = correlation_id()
        if cid is not None and not hasattr(record, "correlation_id"):
            record.correlation_id = cid
        for key, value in current_fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return True
        for key in list(record.__dict__):
            if key not in _RESERVED and key.lower() in SENSITIVE_FIELDS:
                setattr(record, key, mask(record.__dict__[key]))
        return True


def configure_logging(
    settings: ObservabilitySettings, *, service: str | None = None, stream: IO[str] | None = None
) -> None:
    """Route every logger (ours, uvicorn's, aiokafka's) through one handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter: logging.Formatter
    if settings.log_format is LogFormat.JSON:
        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={
                "asctime": "ts",
                "levelname": "level",
                "name": "logger",
                "message": "event",
            },
            timestamp=False,
        )
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter(service or settings.service_name))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for noisy in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka", "botocore"):
        logging.getLogger(noisy).handlers.clear()
        logging.getLogger(noisy).propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("botocore").setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
