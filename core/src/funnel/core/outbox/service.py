"""The outbox: every send is a row first, written in the transaction of the decision behind it.

The sender claims due rows across tenants with ``FOR UPDATE SKIP LOCKED`` (so several sender
loops never take the same row), marks them ``sending`` with a lease, and records the outcome.
A row stuck in ``sending`` after a crash is taken again only once its lease has expired, and a
status webhook carrying the row's id (``biz_opaque_callback_data``) reconciles it first: a send
Meta accepted whose response we lost is recorded, not repeated.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.events.publisher import EventType, emit
from funnel.core.inbound.service import apply_statuses
from funnel.core.models import (
    Conversation,
    Lead,
    Message,
    MessageStatusEvent,
    Outbox,
    WhatsAppChannel,
)
from funnel.core.models.enums import (
    ConversationMode,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    MessageType,
    OutboxKind,
    OutboxStatus,
)
from funnel.core.whatsapp.graph_models import recipient_fields, validate_callback_data

#: A row in ``sending`` longer than this is presumed lost with its sender and taken again
#: (after reconciliation had the chance to record it).
SENDING_LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class NewSend:
    kind: OutboxKind
    #: The message part of the Graph body: ``{"type": "text", "text": {...}}``.
    message: dict[str, Any]
    preview: str
    message_type: MessageType
    author: MessageAuthor
    idempotency_key: str
    author_user_id: uuid.UUID | None = None


def graph_body(message: dict[str, Any], to: str, outbox_id: uuid.UUID) -> dict[str, Any]:
    """The full Graph request: recipient from the conversation's lead, never from the caller,
    and the outbox id as callback data so statuses lead back to the row."""
    callback = str(outbox_id)
    validate_callback_data(callback)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **recipient_fields(to),
        **message,
        "biz_opaque_callback_data": callback,
    }


@dataclass(frozen=True, slots=True)
class QueuedSend:
    """A reply written to the outbox: its row and the message it will deliver."""

    outbox_id: uuid.UUID
    message_id: uuid.UUID


async def enqueue_send(
    session: AsyncSession,
    *,
    conversation: Conversation,
    lead: Lead,
    send: NewSend,
    correlation_id: str | None,
    pipeline_run_id: uuid.UUID | None = None,
) -> QueuedSend | None:
    """Write the outbound message and its outbox row. ``None`` when this idempotency key was
    already queued (a redelivered decision)."""
    recipient = lead.wa_id or lead.bsuid
    if not recipient:
        raise ValueError("the lead has no WhatsApp id to send to")
    outbox_id = uuid.uuid4()
    message_id = uuid.uuid4()
    # The message first, so the outbox row names it from the start (no second UPDATE).
    message = Message(
        id=message_id,
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        lead_id=lead.id,
        direction=MessageDirection.OUTBOUND,
        author=send.author,
        author_user_id=send.author_user_id,
        type=send.message_type,
        text=send.preview,
        content={"graph": send.message},
        status=MessageStatus.PENDING,
        status_updated_at=dt.datetime.now(dt.UTC),
        pipeline_run_id=pipeline_run_id,
    )
    session.add(message)
    await session.flush()
    inserted = (
        await session.execute(
            insert(Outbox)
            .values(
                id=outbox_id,
                organisation_id=conversation.organisation_id,
                conversation_id=conversation.id,
                channel_id=conversation.channel_id,
                message_id=message_id,
                idempotency_key=send.idempotency_key,
                kind=send.kind,
                payload=graph_body(send.message, recipient, outbox_id),
                correlation_id=correlation_id,
            )
            .on_conflict_do_nothing(index_elements=[Outbox.organisation_id, Outbox.idempotency_key])
            .returning(Outbox.id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        # Already queued under this key (rare: a redelivered decision): the message just written
        # would be a second copy of the one that row delivers.
        await session.execute(
            sa.delete(Message).where(
                Message.organisation_id == conversation.organisation_id, Message.id == message_id
            )
        )
        session.expunge(message)
        return None
    now = dt.datetime.now(dt.UTC)
    conversation.last_message_at = now
    conversation.last_message_preview = send.preview[:200]
    if send.author is MessageAuthor.BOT:
        conversation.last_bot_message_at = now
    elif send.author is MessageAuthor.HUMAN:
        conversation.last_human_message_at = now
    return QueuedSend(outbox_id=outbox_id, message_id=message_id)


# -------------------------------------------------------------------------- the sender's side


@dataclass(frozen=True, slots=True)
class ClaimedSend:
    outbox_id: uuid.UUID
    organisation_id: uuid.UUID
    conversation_id: uuid.UUID
    message_id: uuid.UUID | None
    channel_id: uuid.UUID
    phone_number_id: str
    graph_version: str
    messages_per_second: int
    access_token_encrypted: bytes
    recipient: str
    payload: dict[str, Any]
    attempts: int
    correlation_id: str | None
    kind: OutboxKind
    #: WhatsApp's time of the customer's last message: reply latency is measured from it.
    last_inbound_at: dt.datetime | None = None


#: Rows that still hold their conversation's place in the send order.
UNSENT = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SENDING)


async def claim_due(
    session: AsyncSession,
    *,
    limit: int,
    now: dt.datetime | None = None,
    lease: dt.timedelta = SENDING_LEASE,
) -> list[ClaimedSend]:
    """Take up to ``limit`` due rows for sending (system scope, all tenants). The caller commits
    right away so the ``sending`` mark is visible to other senders.

    Only the head of each conversation's queue is due: a row whose conversation has an earlier
    row still unsent (pending, failing and waiting to retry, or being sent by another sender) is
    left for later, so a conversation's messages reach the customer in the order they were
    written however many senders run. A conversation waits behind its own retrying message,
    never behind another's.
    """
    now = now or dt.datetime.now(dt.UTC)
    earlier = sa.orm.aliased(Outbox)
    head_of_conversation = ~sa.exists().where(
        earlier.organisation_id == Outbox.organisation_id,
        earlier.conversation_id == Outbox.conversation_id,
        earlier.seq < Outbox.seq,
        earlier.status.in_(UNSENT),
    )
    due = sa.and_(
        sa.or_(
            sa.and_(
                Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]),
                Outbox.next_attempt_at <= now,
            ),
            sa.and_(Outbox.status == OutboxStatus.SENDING, Outbox.next_attempt_at <= now),
        ),
        head_of_conversation,
    )
    rows = (
        await session.execute(
            sa.select(Outbox, WhatsAppChannel, Conversation.last_inbound_at)
            .join(WhatsAppChannel, WhatsAppChannel.id == Outbox.channel_id)
            .join(
                Conversation,
                sa.and_(
                    Conversation.organisation_id == Outbox.organisation_id,
                    Conversation.id == Outbox.conversation_id,
                ),
            )
            .where(due, WhatsAppChannel.paused_at.is_(None))
            .order_by(Outbox.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Outbox)
        )
    ).all()
    claimed: list[ClaimedSend] = []
    for outbox, channel, last_inbound_at in rows:
        if outbox.status is OutboxStatus.SENDING and outbox.sent_wamid is not None:
            outbox.status = OutboxStatus.SENT  # reconciled while its sender was gone
            continue
        outbox.status = OutboxStatus.SENDING
        outbox.attempts += 1
        outbox.next_attempt_at = now + lease
        payload = dict(outbox.payload)
        claimed.append(
            ClaimedSend(
                outbox_id=outbox.id,
                organisation_id=outbox.organisation_id,
                conversation_id=outbox.conversation_id,
                message_id=outbox.message_id,
                channel_id=channel.id,
                phone_number_id=channel.phone_number_id,
                graph_version=channel.graph_version,
                messages_per_second=channel.messages_per_second,
                access_token_encrypted=channel.access_token_encrypted,
                recipient=str(payload.get("to") or payload.get("recipient") or ""),
                payload=payload,
                attempts=outbox.attempts,
                correlation_id=outbox.correlation_id,
                kind=outbox.kind,
                last_inbound_at=last_inbound_at,
            )
        )
    return claimed


async def record_sent(
    session: AsyncSession, claimed: ClaimedSend, wamid: str, now: dt.datetime | None = None
) -> None:
    now = now or dt.datetime.now(dt.UTC)
    await session.execute(
        sa.update(Outbox)
        .where(Outbox.id == claimed.outbox_id)
        .values(
            status=OutboxStatus.SENT,
            sent_wamid=wamid,
            sent_at=now,
            last_error=None,
            last_error_code=None,
        )
    )
    if claimed.message_id is not None:
        # The same statement says whether a status for this wamid raced ahead of the response
        # (stored by the status handler, which could not find the message yet); usually none
        # did, and the two reads that apply one are skipped.
        raced_ahead = sa.exists().where(
            MessageStatusEvent.organisation_id == claimed.organisation_id,
            MessageStatusEvent.wamid == wamid,
        )
        early = (
            await session.execute(
                sa.update(Message)
                .where(
                    Message.organisation_id == claimed.organisation_id,
                    Message.id == claimed.message_id,
                )
                .values(wamid=wamid, status=MessageStatus.SENT, sent_at=now, status_updated_at=now)
                .returning(raced_ahead)
            )
        ).scalar_one_or_none()
        await emit(
            session,
            claimed.organisation_id,
            EventType.MESSAGE_STATUS,
            conversation_id=claimed.conversation_id,
            message_id=claimed.message_id,
        )
        if early:
            await apply_statuses(session, claimed.organisation_id, wamid)


def backoff_delay(attempt: int, *, base_s: float = 2.0, cap_s: float = 300.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap_s, base_s * (2 ** max(0, attempt - 1))))  # noqa: S311


async def record_failure(
    session: AsyncSession,
    claimed: ClaimedSend,
    *,
    code: int | None,
    error: str,
    retryable: bool,
    retry_in_s: float | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Record a failed attempt. Returns True when the row will be retried."""
    now = now or dt.datetime.now(dt.UTC)
    retry = retryable and claimed.attempts < MAX_ATTEMPTS
    delay = retry_in_s if retry_in_s is not None else backoff_delay(claimed.attempts)
    await session.execute(
        sa.update(Outbox)
        .where(Outbox.id == claimed.outbox_id)
        .values(
            status=OutboxStatus.FAILED if retry else OutboxStatus.DEAD,
            next_attempt_at=now + dt.timedelta(seconds=delay) if retry else now,
            last_error_code=code,
            last_error=error[:2000],
        )
    )
    if not retry and claimed.message_id is not None:
        await session.execute(
            sa.update(Message)
            .where(
                Message.organisation_id == claimed.organisation_id, Message.id == claimed.message_id
            )
            .values(
                status=MessageStatus.FAILED,
                failed_at=now,
                status_updated_at=now,
                error_code=code,
                error_title=error[:500],
            )
        )
        # Only the terminal failure is news to a dashboard; a retry leaves the message pending.
        await emit(
            session,
            claimed.organisation_id,
            EventType.MESSAGE_STATUS,
            conversation_id=claimed.conversation_id,
            message_id=claimed.message_id,
        )
    return retry


async def pause_channel(session: AsyncSession, channel_id: uuid.UUID, reason: str) -> None:
    """Stop every send on a channel (its token expired: Graph error 190) until reconnected."""
    await session.execute(
        sa.update(WhatsAppChannel)
        .where(WhatsAppChannel.id == channel_id, WhatsAppChannel.paused_at.is_(None))
        .values(paused_at=sa.func.now(), paused_reason=reason[:255])
    )


async def conversation_accepts_bot(
    session: AsyncSession, organisation_id: uuid.UUID, conversation_id: uuid.UUID
) -> bool:
    mode = (
        await session.execute(
            sa.select(Conversation.mode).where(
                Conversation.organisation_id == organisation_id, Conversation.id == conversation_id
            )
        )
    ).scalar_one_or_none()
    return mode is ConversationMode.BOT
