"""Context that follows one customer message from webhook to reply.

The receiver mints a correlation id per webhook and carries it in the SQS message; the bridge
copies it into the Kafka headers of every event it splits out; the worker binds it while it
handles the event, and the outbox row keeps it for the send. Every log line written while it is
bound carries it, so one ``grep`` finds the message's whole path.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from typing import Any

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "funnel_correlation_id", default=None
)
_fields: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "funnel_log_fields",
    default={},  # noqa: B039 - read-only: bind_context sets a new dict, readers only iterate
)

CORRELATION_HEADER = "x-correlation-id"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def correlation_id() -> str | None:
    return _correlation_id.get()


def current_fields() -> dict[str, Any]:
    return _fields.get()


@contextlib.contextmanager
def bind_context(correlation: str | None = None, **fields: Any) -> Iterator[str]:
    """Bind a correlation id (a new one when none is given) and extra log fields for a block."""
    cid = correlation or _correlation_id.get() or new_correlation_id()
    cid_token = _correlation_id.set(cid)
    fields_token = _fields.set({**_fields.get(), **fields})
    try:
        yield cid
    finally:
        _fields.reset(fields_token)
        _correlation_id.reset(cid_token)
