"""The sender's claim: a conversation's messages go out in the order they were written, whatever
the number of senders, and one conversation never waits behind another's."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from funnel.core.db.engine import create_engine
from funnel.core.models import Conversation, Outbox
from funnel.core.models.enums import OutboxKind, OutboxStatus
from funnel.core.outbox.service import claim_due, record_failure, record_sent
from funnel.core.settings import DatabaseSettings
from tests.factories import make_channel, make_conversation, make_lead, make_organisation

pytestmark = pytest.mark.postgres


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    yield engine
    await engine.dispose()


def reply(conversation: Conversation, text: str) -> Outbox:
    return Outbox(
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        idempotency_key=f"test:{uuid.uuid4().hex}",
        kind=OutboxKind.MESSAGE,
        payload={
            "messaging_product": "whatsapp",
            "to": "919800000000",
            "type": "text",
            "text": {"body": text},
        },
    )


async def two_conversations(engine: AsyncEngine) -> tuple[Conversation, Conversation]:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        organisation = await make_organisation(session)
        channel = await make_channel(session, organisation)
        first = await make_conversation(session, await make_lead(session, channel))
        second = await make_conversation(session, await make_lead(session, channel))
    return first, second


def texts(claimed: list) -> list[str]:  # type: ignore[type-arg]
    return [c.payload["text"]["body"] for c in claimed]


async def claim(engine: AsyncEngine, limit: int = 10) -> list:  # type: ignore[type-arg]
    async with AsyncSession(engine) as session, session.begin():
        return await claim_due(session, limit=limit)


async def test_only_the_oldest_unsent_row_of_a_conversation_is_claimed(engine: AsyncEngine) -> None:
    first, second = await two_conversations(engine)
    async with AsyncSession(engine) as session, session.begin():
        # One transaction writes two replies (a text and a CTA, say): same created_at.
        session.add_all([reply(first, "a1"), reply(first, "a2")])
        session.add(reply(second, "b1"))
    async with AsyncSession(engine) as session, session.begin():
        session.add(reply(first, "a3"))

    taken = await claim(engine)
    # a1 and b1 are the heads of their conversations; a2 waits for a1 while a1 is being sent.
    assert sorted(texts(taken)) == ["a1", "b1"]
    # A second sender (another worker process) finds nothing more to take meanwhile.
    assert await claim(engine) == []

    async with AsyncSession(engine) as session, session.begin():
        for item in taken:
            await record_sent(session, item, f"wamid.{texts([item])[0]}")
    assert texts(await claim(engine)) == ["a2"]


async def test_a_retrying_row_holds_its_conversation_back_not_others(engine: AsyncEngine) -> None:
    first, second = await two_conversations(engine)
    async with AsyncSession(engine) as session, session.begin():
        session.add_all([reply(first, "a1"), reply(first, "a2"), reply(second, "b1")])
    (a1, b1) = sorted(await claim(engine), key=lambda c: texts([c])[0])
    async with AsyncSession(engine) as session, session.begin():
        # a1 failed with a retryable error: it goes back in line, due in a minute.
        await record_failure(
            session, a1, code=131056, error="pair rate", retryable=True, retry_in_s=60
        )
        await record_sent(session, b1, "wamid.b1")
    # a2 must not overtake a1 while a1 waits to retry.
    assert await claim(engine) == []

    async with AsyncSession(engine) as session, session.begin():
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
        retried = await claim_due(session, limit=10, now=later)
    assert texts(retried) == ["a1"]


async def test_a_dead_row_does_not_block_what_follows(engine: AsyncEngine) -> None:
    first, _ = await two_conversations(engine)
    async with AsyncSession(engine) as session, session.begin():
        session.add_all([reply(first, "a1"), reply(first, "a2")])
    (a1,) = await claim(engine)
    async with AsyncSession(engine) as session, session.begin():
        await record_failure(
            session, a1, code=131026, error="undeliverable", retryable=False, retry_in_s=None
        )
    assert texts(await claim(engine)) == ["a2"]
    async with AsyncSession(engine) as session:
        statuses = {
            o.payload["text"]["body"]: o.status
            for o in (await session.execute(Outbox.__table__.select())).all()
        }
    assert statuses == {"a1": OutboxStatus.DEAD, "a2": OutboxStatus.SENDING}
