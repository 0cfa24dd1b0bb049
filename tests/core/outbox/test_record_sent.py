"""Recording a send: the message gets its wamid and "sent", and a status that raced ahead of the
send response (Meta's webhook can beat the HTTP answer) is applied then, not lost."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from funnel.core.db.engine import create_engine
from funnel.core.inbound.service import record_status
from funnel.core.models import Message
from funnel.core.models.enums import MessageAuthor, MessageStatus, MessageType, OutboxKind
from funnel.core.outbox.service import ClaimedSend, NewSend, claim_due, enqueue_send, record_sent
from funnel.core.settings import DatabaseSettings
from funnel.core.whatsapp.webhook import split_events
from tests.factories import make_channel, make_conversation, make_lead, make_organisation

pytestmark = pytest.mark.postgres

DELIVERED = json.loads(
    (Path(__file__).parents[2] / "fixtures/whatsapp/status_delivered_pricing.json").read_text()
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    yield engine
    await engine.dispose()


async def queued_reply(engine: AsyncEngine) -> ClaimedSend:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        organisation = await make_organisation(session)
        channel = await make_channel(session, organisation)
        lead = await make_lead(session, channel)
        conversation = await make_conversation(session, lead)
        await enqueue_send(
            session,
            conversation=conversation,
            lead=lead,
            send=NewSend(
                kind=OutboxKind.MESSAGE,
                message={"type": "text", "text": {"body": "Our menu is attached"}},
                preview="Our menu is attached",
                message_type=MessageType.TEXT,
                author=MessageAuthor.BOT,
                idempotency_key=f"test:{uuid.uuid4().hex}",
            ),
            correlation_id=None,
        )
    async with AsyncSession(engine) as session, session.begin():
        (claimed,) = await claim_due(session, limit=10)
    return claimed


def delivered(wamid: str) -> Any:
    payload = copy.deepcopy(DELIVERED)
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    (status_event,) = split_events(payload)
    return status_event


async def message(engine: AsyncEngine, claimed: ClaimedSend) -> Message:
    async with AsyncSession(engine) as session:
        return (
            await session.execute(sa.select(Message).where(Message.id == claimed.message_id))
        ).scalar_one()


async def record(engine: AsyncEngine, claimed: ClaimedSend, wamid: str) -> list[str]:
    """``record_sent`` in its own transaction; the statements it ran."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        async with AsyncSession(engine) as session, session.begin():
            await record_sent(session, claimed, wamid)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    return seen


async def test_a_status_that_arrived_before_the_send_was_recorded_is_applied(
    engine: AsyncEngine,
) -> None:
    claimed = await queued_reply(engine)
    wamid = f"wamid.TEST{uuid.uuid4().hex}"
    async with AsyncSession(engine) as session, session.begin():
        outcome = await record_status(session, claimed.organisation_id, delivered(wamid))
    assert not outcome.applied  # no message carries this wamid yet: stored for later
    statements = await record(engine, claimed, wamid)
    stored = await message(engine, claimed)
    assert stored.wamid == wamid
    assert stored.status is MessageStatus.DELIVERED
    assert stored.delivered_at is not None
    assert any("message_status_events" in s for s in statements)


async def test_without_an_early_status_the_send_is_recorded_without_reading_statuses(
    engine: AsyncEngine,
) -> None:
    claimed = await queued_reply(engine)
    wamid = f"wamid.TEST{uuid.uuid4().hex}"
    statements = await record(engine, claimed, wamid)
    stored = await message(engine, claimed)
    assert stored.wamid == wamid
    assert stored.status is MessageStatus.SENT
    # The update answered "no status waiting" itself: no SELECT of the message or its statuses.
    assert not [
        s for s in statements if s.lstrip().upper().startswith("SELECT") and "pg_notify" not in s
    ]
