"""Emitting live-update events.

``emit`` queues the event on the caller's session, and the session sends every queued event in
one ``pg_notify`` statement just before its transaction commits, so the notification is part of
the caller's transaction: PostgreSQL delivers it on COMMIT and drops it on ROLLBACK (one round
trip per transaction, however many events a turn emits). A dashboard can therefore
never see an event for a message that was not stored, and needs no outbox for these (they are
hints to refetch, not the record: a missed one costs a stale screen until the next event or
refresh, never data).

Payloads carry ids, never bodies: NOTIFY payloads must stay under 8000 bytes, and message text
would put customer data on a channel every replica's listener reads.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

#: The one NOTIFY channel; every event carries its organisation and is filtered by the listener.
CHANNEL = "funnel_events"
#: PostgreSQL refuses payloads of 8000 bytes or more; leave room for the server's own framing.
MAX_PAYLOAD_BYTES = 7_900
#: Enough ids for a batch (a sender marking many statuses), far under the byte limit.
MAX_IDS_PER_FIELD = 100


class EventType(enum.StrEnum):
    MESSAGE_CREATED = "message.created"
    MESSAGE_STATUS = "message.status"
    CONVERSATION_UPDATED = "conversation.updated"
    ATTENTION_CHANGED = "attention.changed"
    #: ``template_id`` and the new ``status`` (a submission, Meta's webhook, a sync).
    TEMPLATE_STATUS_CHANGED = "template.status_changed"
    #: ``document_id``, ``status`` and ``progress`` (0..100) of a knowledge document's ingestion.
    KNOWLEDGE_DOCUMENT_UPDATED = "knowledge.document_updated"


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    organisation_id: uuid.UUID
    type: EventType
    #: ``conversation_id``, ``message_id``, ``lead_id``…, as strings (or lists of strings).
    ids: dict[str, Any]

    def to_payload(self) -> str:
        body = {"organisation_id": str(self.organisation_id), "type": self.type.value, **self.ids}
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_payload(cls, payload: str) -> Event:
        body = json.loads(payload)
        organisation_id = uuid.UUID(body.pop("organisation_id"))
        event_type = EventType(body.pop("type"))
        return cls(organisation_id=organisation_id, type=event_type, ids=body)


def _normalise(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        values = [_normalise(v) for v in value]
        if len(values) > MAX_IDS_PER_FIELD:
            raise ValueError(f"at most {MAX_IDS_PER_FIELD} ids per field in one event")
        return sorted(values) if isinstance(value, (set, frozenset)) else values
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    raise TypeError(f"event fields are ids, not {type(value).__name__}")


def build_event(organisation_id: uuid.UUID, type: EventType | str, /, **ids: Any) -> Event:
    reserved = {"organisation_id", "type"} & set(ids)
    if reserved:
        raise ValueError(f"reserved event field(s): {', '.join(sorted(reserved))}")
    event = Event(
        organisation_id=organisation_id,
        type=EventType(type),
        ids={key: _normalise(value) for key, value in ids.items()},
    )
    size = len(event.to_payload().encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(f"event payload is {size} bytes; NOTIFY allows under 8000")
    return event


async def emit(
    session: AsyncSession, organisation_id: uuid.UUID, type: EventType | str, /, **ids: Any
) -> Event:
    """Queue an event on ``session``'s transaction; it is delivered when that transaction commits.

    Call it from any transaction that changed something a dashboard shows, with the ids of what
    changed: ``await emit(session, org_id, EventType.MESSAGE_CREATED, conversation_id=…,
    message_id=…)``. Works on scoped (tenant-role) and unscoped sessions alike.
    """
    event = build_event(organisation_id, type, **ids)
    sync_session = session.sync_session
    if not sa_event.contains(sync_session, "before_commit", _send_pending):
        sa_event.listen(sync_session, "before_commit", _send_pending)
        sa_event.listen(sync_session, "after_transaction_end", _forget_pending)
    sync_session.info.setdefault(_PENDING_KEY, []).append(event.to_payload())
    return event


_PENDING_KEY = "funnel.pending_events"
_NOTIFY_ALL = sa.text(
    "SELECT pg_notify(:channel, p.payload) "
    "FROM unnest(CAST(:payloads AS text[])) WITH ORDINALITY AS p(payload, n) ORDER BY p.n"
)


def _send_pending(session: Session) -> None:
    # Runs inside the commit, in the same transaction (SQLAlchemy's asyncio layer runs session
    # events in its greenlet, so the synchronous execute is fine here).
    payloads = session.info.pop(_PENDING_KEY, None)
    if payloads:
        session.execute(_NOTIFY_ALL, {"channel": CHANNEL, "payloads": payloads})


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # A rollback drops what was queued, as PostgreSQL would have dropped the NOTIFY.
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
