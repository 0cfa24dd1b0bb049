"""Queueing a reply: one message and one outbox row naming it; the same decision queued twice
(a redelivery) leaves exactly one of each."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import Message, Outbox
from funnel.core.models.enums import MessageAuthor, MessageType, OutboxKind
from funnel.core.outbox.service import NewSend, QueuedSend, enqueue_send
from tests.factories import make_channel, make_conversation, make_lead, make_organisation

pytestmark = pytest.mark.postgres


async def test_a_decision_queued_twice_is_one_message_and_one_row(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(db_session, organisation)
    lead = await make_lead(db_session, channel)
    conversation = await make_conversation(db_session, lead)
    send = NewSend(
        kind=OutboxKind.MESSAGE,
        message={"type": "text", "text": {"body": "See you at 6"}},
        preview="See you at 6",
        message_type=MessageType.TEXT,
        author=MessageAuthor.BOT,
        idempotency_key=f"turn:{uuid.uuid4().hex}:0",
    )

    async def queue() -> QueuedSend | None:
        return await enqueue_send(
            db_session, conversation=conversation, lead=lead, send=send, correlation_id=None
        )

    first = await queue()
    assert first is not None
    assert await queue() is None

    rows = (
        (
            await db_session.execute(
                sa.select(Outbox).where(Outbox.conversation_id == conversation.id)
            )
        )
        .scalars()
        .all()
    )
    messages = (
        (
            await db_session.execute(
                sa.select(Message).where(Message.conversation_id == conversation.id)
            )
        )
        .scalars()
        .all()
    )
    assert [r.id for r in rows] == [first.outbox_id]
    assert [m.id for m in messages] == [first.message_id]
    assert rows[0].message_id == first.message_id
    assert rows[0].payload["to"] == lead.wa_id
    assert conversation.last_message_preview == "See you at 6"
