"""Storing what customers send, once, whatever Meta and the queues redeliver.

Everything here runs in the caller's transaction on a session scoped to the organisation; the
worker commits. Idempotency lives in the database, not in process memory:

* a message is ``INSERT … ON CONFLICT (organisation_id, wamid) DO NOTHING``: a redelivery is a
  no-op and is reported as a duplicate;
* the lead is upserted on its contact id, and the open conversation is created under a partial
  unique index and then locked ``FOR UPDATE``, so two workers that briefly overlap during a
  rebalance serialise on the conversation instead of interleaving;
* a status is ``INSERT … ON CONFLICT (organisation_id, wamid, status) DO NOTHING`` and is applied
  to its message monotonically (sent < delivered < read, failed terminal). A status for a wamid
  not stored yet waits in ``message_status_events`` and is applied when the send is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.events.publisher import MAX_IDS_PER_FIELD, EventType, emit
from funnel.core.inbound.channels import ChannelRef
from funnel.core.inbound.optout import is_opt_out_button, is_opt_out_text
from funnel.core.models import (
    Conversation,
    Lead,
    Message,
    MessageStatusEvent,
    Outbox,
    ScheduledAction,
)
from funnel.core.models.enums import (
    ConversationMode,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    MessageType,
    OptOutSource,
    OutboxStatus,
    ScheduledActionKind,
    ScheduledActionStatus,
)
from funnel.core.whatsapp.webhook import WebhookEvent

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=24)
PREVIEW_CHARS = 200
#: Message types that ask for an answer. Reactions, system notices and unsupported types are
#: stored and shown, but do not start a turn.
TURN_TYPES = frozenset(
    {
        MessageType.TEXT,
        MessageType.IMAGE,
        MessageType.AUDIO,
        MessageType.VIDEO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
        MessageType.LOCATION,
        MessageType.CONTACTS,
        MessageType.INTERACTIVE,
        MessageType.BUTTON,
        MessageType.ORDER,
    }
)
_STATUS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}
#: Graph error codes that mean "the 24-hour window is closed" on a failed status.
WINDOW_CLOSED_CODES = frozenset({131047})
#: The user stopped marketing messages: record it as an opt-out from Meta.
MARKETING_OPT_OUT_CODES = frozenset({131050})


@dataclass(frozen=True, slots=True)
class IngestedMessage:
    id: uuid.UUID
    wamid: str
    type: MessageType
    whatsapp_media_id: str | None


@dataclass(slots=True)
class IngestResult:
    conversation_id: uuid.UUID
    lead_id: uuid.UUID
    new: list[IngestedMessage] = field(default_factory=list)
    duplicates: int = 0
    opted_out: bool = False
    conversation_mode: ConversationMode = ConversationMode.BOT


def _message_type(raw_type: str) -> MessageType:
    try:
        return MessageType(raw_type)
    except ValueError:
        return MessageType.UNSUPPORTED


def describe(event: WebhookEvent) -> tuple[MessageType, str | None, dict[str, Any]]:
    """The stored type, the searchable text, and the structured content of one message."""
    message = event.message
    assert message is not None
    kind = _message_type(message.type)
    text: str | None = None
    content: dict[str, Any] = {}
    if message.text is not None:
        text = message.text.body
    elif (media := message.media) is not None:
        text = media.caption
        content = {"media": media.model_dump(exclude_none=True, by_alias=True)}
    elif message.interactive is not None:
        reply = message.interactive.reply
        text = reply.title if reply else None
        content = {"interactive": message.interactive.model_dump(exclude_none=True)}
    elif message.button is not None:
        text = message.button.text
        content = {"button": message.button.model_dump(exclude_none=True)}
    elif message.location is not None:
        loc = message.location
        text = ", ".join(p for p in (loc.name, loc.address) if p) or None
        content = {"location": loc.model_dump(exclude_none=True)}
    elif message.reaction is not None:
        content = {"reaction": message.reaction.model_dump(exclude_none=True)}
    elif message.system is not None:
        text = message.system.body
        content = {"system": message.system.model_dump(exclude_none=True)}
    else:
        content = {"raw": dict(event.raw)}
    if message.context is not None and message.context.id:
        content["context"] = message.context.model_dump(exclude_none=True, by_alias=True)
    if message.errors:
        content["errors"] = [e.model_dump(exclude_none=True) for e in message.errors]
    if message.referral:
        content["referral"] = message.referral
    return kind, text, content


def _opt_out_requested(event: WebhookEvent) -> bool:
    message = event.message
    if message is None:
        return False
    if message.button is not None and is_opt_out_button(message.button.payload):
        return True
    return message.text is not None and is_opt_out_text(message.text.body)


async def upsert_lead(session: AsyncSession, channel: ChannelRef, event: WebhookEvent) -> uuid.UUID:
    contact = event.contact
    if contact is None or not contact.identity:
        raise ValueError("a message event without a contact id cannot be stored")
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "organisation_id": channel.organisation_id,
        "channel_id": channel.id,
        "wa_id": contact.wa_id,
        "bsuid": contact.user_id,
        "name": contact.name,
    }
    statement = insert(Lead).values(**values)
    # An operator's edit of the name wins over the WhatsApp profile; a BSUID learnt later is kept.
    update = {
        "name": sa.func.coalesce(Lead.name, statement.excluded.name),
        "bsuid": sa.func.coalesce(statement.excluded.bsuid, Lead.bsuid),
        "updated_at": sa.func.now(),
    }
    if contact.wa_id:
        statement = statement.on_conflict_do_update(
            index_elements=[Lead.organisation_id, Lead.channel_id, Lead.wa_id],
            index_where=Lead.wa_id.is_not(None),
            set_=update,
        )
    else:
        statement = statement.on_conflict_do_update(
            index_elements=[Lead.organisation_id, Lead.channel_id, Lead.bsuid],
            index_where=Lead.bsuid.is_not(None),
            set_={k: v for k, v in update.items() if k != "bsuid"},
        )
    lead_id = (await session.execute(statement.returning(Lead.id))).scalar_one()
    return uuid.UUID(str(lead_id))


async def open_conversation_for_update(
    session: AsyncSession, channel: ChannelRef, lead_id: uuid.UUID
) -> Conversation:
    """The lead's open conversation, created if needed, locked for this transaction."""
    select_open = (
        sa.select(Conversation)
        .where(
            Conversation.organisation_id == channel.organisation_id,
            Conversation.lead_id == lead_id,
            Conversation.mode != ConversationMode.CLOSED,
        )
        .with_for_update()
    )
    conversation = (await session.execute(select_open)).scalar_one_or_none()
    if conversation is not None:
        return conversation
    await session.execute(
        insert(Conversation)
        .values(
            id=uuid.uuid4(),
            organisation_id=channel.organisation_id,
            lead_id=lead_id,
            channel_id=channel.id,
        )
        .on_conflict_do_nothing(
            index_elements=[Conversation.organisation_id, Conversation.lead_id],
            # A literal, not a bound parameter: PostgreSQL matches a partial index's predicate
            # at plan time, and a generic prepared plan (asyncpg's, after a few executions)
            # cannot prove ``mode != $1`` implies it.
            index_where=sa.text("mode <> 'closed'"),
        )
    )
    return (
        await session.execute(select_open.execution_options(populate_existing=True))
    ).scalar_one()


async def ingest_messages(
    session: AsyncSession, channel: ChannelRef, events: Sequence[WebhookEvent]
) -> IngestResult:
    """Store one contact's inbound messages (a key's batch) and move the conversation on."""
    if not events:
        raise ValueError("nothing to ingest")
    lead_id = await upsert_lead(session, channel, events[0])
    conversation = await open_conversation_for_update(session, channel, lead_id)
    result = IngestResult(
        conversation_id=conversation.id, lead_id=lead_id, conversation_mode=conversation.mode
    )
    newest: dt.datetime | None = None
    preview: str | None = None
    opt_out = False
    for event in sorted(
        events, key=lambda e: e.timestamp or dt.datetime.min.replace(tzinfo=dt.UTC)
    ):
        message = event.message
        assert message is not None
        kind, text, content = describe(event)
        media = message.media
        inserted = (
            await session.execute(
                insert(Message)
                .values(
                    id=uuid.uuid4(),
                    organisation_id=channel.organisation_id,
                    conversation_id=conversation.id,
                    lead_id=lead_id,
                    direction=MessageDirection.INBOUND,
                    author=MessageAuthor.LEAD,
                    type=kind,
                    text=text,
                    content=content,
                    wamid=message.id,
                    reply_to_wamid=message.context.id if message.context else None,
                    whatsapp_timestamp=message.timestamp,
                    status=MessageStatus.RECEIVED,
                    status_updated_at=sa.func.now(),
                )
                .on_conflict_do_nothing(index_elements=[Message.organisation_id, Message.wamid])
                .returning(Message.id)
            )
        ).scalar_one_or_none()
        if inserted is None:
            result.duplicates += 1
            log.info("message.duplicate", extra={"conversation_id": str(conversation.id)})
            continue
        result.new.append(
            IngestedMessage(
                id=uuid.UUID(str(inserted)),
                wamid=message.id,
                type=kind,
                whatsapp_media_id=media.id if media is not None else None,
            )
        )
        opt_out = opt_out or _opt_out_requested(event)
        if newest is None or (message.timestamp and message.timestamp >= newest):
            newest = message.timestamp
            preview = (text or f"[{kind.value}]")[:PREVIEW_CHARS]
    if newest is not None:
        await _advance_window(session, conversation, lead_id, newest, preview)
    if opt_out:
        await record_opt_out(session, channel.organisation_id, lead_id, OptOutSource.KEYWORD)
        result.opted_out = True
    if result.new:
        await _announce_ingest(session, channel.organisation_id, result)
    return result


async def _announce_ingest(
    session: AsyncSession, organisation_id: uuid.UUID, result: IngestResult
) -> None:
    """Live-update hints for the dashboards, delivered when the caller commits (NOTIFY is
    transactional): a redelivered batch inserts nothing and so announces nothing."""
    ids = [m.id for m in result.new]
    # An event carries at most MAX_IDS_PER_FIELD ids; a larger burst is split, never truncated.
    for start in range(0, len(ids), MAX_IDS_PER_FIELD):
        await emit(
            session,
            organisation_id,
            EventType.MESSAGE_CREATED,
            conversation_id=result.conversation_id,
            lead_id=result.lead_id,
            message_ids=ids[start : start + MAX_IDS_PER_FIELD],
        )
    # The window, the preview and possibly the opt-out moved with them.
    await emit(
        session,
        organisation_id,
        EventType.CONVERSATION_UPDATED,
        conversation_id=result.conversation_id,
        lead_id=result.lead_id,
    )


async def _advance_window(
    session: AsyncSession,
    conversation: Conversation,
    lead_id: uuid.UUID,
    newest: dt.datetime,
    preview: str | None,
) -> None:
    # The window is anchored on WhatsApp's timestamp and only ever moves forward: a late
    # redelivery of an old message must not make a closed window look open.
    if conversation.last_inbound_at is None or newest > conversation.last_inbound_at:
        conversation.last_inbound_at = newest
        conversation.window_expires_at = newest + WINDOW
    if conversation.last_message_at is None or newest >= conversation.last_message_at:
        conversation.last_message_at = newest
        conversation.last_message_preview = preview
    # The customer wrote back: the daily follow-up budget starts again and pending nudges stop.
    conversation.followups_sent_24h = 0
    await session.execute(
        sa.update(ScheduledAction)
        .where(
            ScheduledAction.organisation_id == conversation.organisation_id,
            ScheduledAction.conversation_id == conversation.id,
            ScheduledAction.kind == ScheduledActionKind.FOLLOWUP,
            ScheduledAction.status == ScheduledActionStatus.PENDING,
        )
        .values(status=ScheduledActionStatus.CANCELLED, completed_at=sa.func.now())
    )
    await session.execute(
        sa.update(Lead)
        .where(Lead.organisation_id == conversation.organisation_id, Lead.id == lead_id)
        .values(
            last_inbound_at=sa.func.greatest(sa.func.coalesce(Lead.last_inbound_at, newest), newest)
        )
    )


async def record_opt_out(
    session: AsyncSession, organisation_id: uuid.UUID, lead_id: uuid.UUID, source: OptOutSource
) -> None:
    await session.execute(
        sa.update(Lead)
        .where(
            Lead.organisation_id == organisation_id,
            Lead.id == lead_id,
            Lead.opted_out.is_(False),
        )
        .values(opted_out=True, opted_out_at=sa.func.now(), opt_out_source=source)
    )


async def unanswered_messages(
    session: AsyncSession, organisation_id: uuid.UUID, conversation_id: uuid.UUID
) -> list[Message]:
    """Inbound messages no turn has consumed yet, oldest first.

    This, not the Kafka batch, decides whether a turn runs: if a worker died after storing a
    message and before answering it, the redelivered event is a duplicate, and the message is
    still found here and answered.
    """
    return list(
        (
            await session.execute(
                sa.select(Message)
                .where(
                    Message.organisation_id == organisation_id,
                    Message.conversation_id == conversation_id,
                    Message.direction == MessageDirection.INBOUND,
                    Message.pipeline_run_id.is_(None),
                    Message.type.in_(TURN_TYPES),
                )
                .order_by(Message.whatsapp_timestamp, Message.created_at)
            )
        )
        .scalars()
        .all()
    )


# ------------------------------------------------------------------------------------ statuses


@dataclass(frozen=True, slots=True)
class StatusOutcome:
    duplicate: bool = False
    applied: bool = False
    window_closed: bool = False
    message_id: uuid.UUID | None = None


def _status(raw: str) -> MessageStatus | None:
    try:
        status = MessageStatus(raw.lower())
    except ValueError:
        return None
    return status if status in _STATUS_RANK or status is MessageStatus.FAILED else None


async def record_status(
    session: AsyncSession, organisation_id: uuid.UUID, event: WebhookEvent
) -> StatusOutcome:
    raw = event.status
    assert raw is not None
    status = _status(raw.status)
    if status is None:
        # ``played`` for voice, group variants: stored nowhere, acknowledged.
        log.info("status.ignored", extra={"status": raw.status})
        return StatusOutcome(applied=False)
    error = raw.errors[0] if raw.errors else None
    inserted = (
        await session.execute(
            insert(MessageStatusEvent)
            .values(
                id=uuid.uuid4(),
                organisation_id=organisation_id,
                wamid=raw.id,
                status=status,
                occurred_at=raw.timestamp,
                recipient_id=raw.recipient_id,
                error_code=error.code if error else None,
                error_title=(error.title or error.message) if error else None,
                pricing=raw.pricing.model_dump(exclude_none=True) if raw.pricing else None,
                raw=dict(event.raw),
            )
            .on_conflict_do_nothing(
                index_elements=[
                    MessageStatusEvent.organisation_id,
                    MessageStatusEvent.wamid,
                    MessageStatusEvent.status,
                ]
            )
            .returning(MessageStatusEvent.id)
        )
    ).scalar_one_or_none()
    if inserted is None:
        return StatusOutcome(duplicate=True)
    if raw.biz_opaque_callback_data:
        await reconcile_outbox(session, organisation_id, raw.biz_opaque_callback_data, raw.id)
    return await apply_statuses(session, organisation_id, raw.id)


async def reconcile_outbox(
    session: AsyncSession, organisation_id: uuid.UUID, callback_data: str, wamid: str
) -> None:
    """A status names the outbox row that produced it: if the send's response was lost (a
    timeout after Meta accepted it), record the wamid now so the row is never sent again."""
    try:
        outbox_id = uuid.UUID(callback_data)
    except ValueError:
        return
    row = (
        await session.execute(
            sa.select(Outbox)
            .where(Outbox.organisation_id == organisation_id, Outbox.id == outbox_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.sent_wamid is not None:
        return
    row.sent_wamid = wamid
    row.status = OutboxStatus.SENT
    row.sent_at = row.sent_at or dt.datetime.now(dt.UTC)
    if row.message_id is not None:
        await session.execute(
            sa.update(Message)
            .where(
                Message.organisation_id == organisation_id,
                Message.id == row.message_id,
                Message.wamid.is_(None),
            )
            .values(wamid=wamid, status=MessageStatus.SENT, sent_at=row.sent_at)
        )
    log.info("outbox.reconciled_from_status", extra={"outbox_id": str(outbox_id)})


async def apply_statuses(
    session: AsyncSession, organisation_id: uuid.UUID, wamid: str
) -> StatusOutcome:
    """Bring the message with ``wamid`` to the furthest status recorded for it.

    Called when a status arrives and again when the send is recorded, so the order in which
    the two happen does not matter.
    """
    message = (
        await session.execute(
            sa.select(Message)
            .where(Message.organisation_id == organisation_id, Message.wamid == wamid)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if message is None:
        return StatusOutcome(applied=False)
    events = (
        (
            await session.execute(
                sa.select(MessageStatusEvent).where(
                    MessageStatusEvent.organisation_id == organisation_id,
                    MessageStatusEvent.wamid == wamid,
                )
            )
        )
        .scalars()
        .all()
    )
    window_closed = False
    changed = False
    for event in sorted(events, key=lambda e: e.occurred_at):
        stamp = {
            MessageStatus.SENT: "sent_at",
            MessageStatus.DELIVERED: "delivered_at",
            MessageStatus.READ: "read_at",
            MessageStatus.FAILED: "failed_at",
        }.get(event.status)
        if stamp and getattr(message, stamp) is None:
            setattr(message, stamp, event.occurred_at)
        if _advances(message.status, event.status):
            message.status = event.status
            message.status_updated_at = event.occurred_at
            changed = True
            if event.status is MessageStatus.FAILED:
                message.error_code = event.error_code
                message.error_title = event.error_title
                window_closed = event.error_code in WINDOW_CLOSED_CODES
                if event.error_code in MARKETING_OPT_OUT_CODES:
                    await record_opt_out(
                        session, organisation_id, message.lead_id, OptOutSource.META
                    )
    if changed:
        await emit(
            session,
            organisation_id,
            EventType.MESSAGE_STATUS,
            conversation_id=message.conversation_id,
            message_id=message.id,
        )
    if window_closed:
        await close_window(session, organisation_id, message.conversation_id)
    return StatusOutcome(applied=changed, window_closed=window_closed, message_id=message.id)


def _advances(current: MessageStatus, new: MessageStatus) -> bool:
    if current is MessageStatus.FAILED:
        return False  # terminal
    if new is MessageStatus.FAILED:
        # A failure after the customer read the message is noise; otherwise it wins.
        return current is not MessageStatus.READ
    return _STATUS_RANK.get(new, -1) > _STATUS_RANK.get(current, -1)


async def close_window(
    session: AsyncSession, organisation_id: uuid.UUID, conversation_id: uuid.UUID
) -> None:
    """Meta says the window is closed (131047) whatever our clock says: believe it, so the
    send planner switches to a template for anything further."""
    now = dt.datetime.now(dt.UTC)
    closed = await session.execute(
        sa.update(Conversation)
        .where(
            Conversation.organisation_id == organisation_id,
            Conversation.id == conversation_id,
            sa.or_(Conversation.window_expires_at.is_(None), Conversation.window_expires_at > now),
        )
        .values(window_expires_at=now)
    )
    # Only a window that was still open changed; an already closed one announces nothing.
    if getattr(closed, "rowcount", 0):
        await emit(
            session,
            organisation_id,
            EventType.CONVERSATION_UPDATED,
            conversation_id=conversation_id,
        )


async def opt_out_conversation_lead(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    conversation_id: uuid.UUID,
    source: OptOutSource,
) -> None:
    lead_id = (
        await session.execute(
            sa.select(Conversation.lead_id).where(
                Conversation.organisation_id == organisation_id, Conversation.id == conversation_id
            )
        )
    ).scalar_one_or_none()
    if lead_id is not None:
        await record_opt_out(session, organisation_id, lead_id, source)
        await emit(
            session,
            organisation_id,
            EventType.CONVERSATION_UPDATED,
            conversation_id=conversation_id,
            lead_id=lead_id,
        )
