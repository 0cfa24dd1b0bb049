"""Per-operator read markers: what each operator has not read yet in each conversation."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.conversations import service
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.errors import NotFound
from funnel.core.models import Conversation, User
from funnel.core.models.enums import MessageAuthor, MessageDirection
from tests import factories

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


async def _world(session: AsyncSession) -> tuple[Conversation, Conversation, User, User]:
    organisation = await factories.make_organisation(session)
    channel = await factories.make_channel(session, organisation)
    first = await factories.make_conversation(session, await factories.make_lead(session, channel))
    second = await factories.make_conversation(session, await factories.make_lead(session, channel))
    alice = await factories.make_user(session)
    bob = await factories.make_user(session)
    for user in (alice, bob):
        await factories.make_membership(session, organisation, user)
    await scope_to_organisation(session, organisation.id)
    return first, second, alice, bob


async def _says(session: AsyncSession, conversation: Conversation, minute: int) -> None:
    await factories.make_message(
        session, conversation, created_at=T0 + dt.timedelta(minutes=minute)
    )


async def test_customer_messages_are_unread_per_operator_until_each_opens_it(
    db_session: AsyncSession,
) -> None:
    first, second, alice, bob = await _world(db_session)
    await _says(db_session, first, 1)
    await _says(db_session, first, 2)
    # Replies (bot or person) are never unread: only what the customer wrote.
    await factories.make_message(
        db_session,
        first,
        direction=MessageDirection.OUTBOUND,
        author=MessageAuthor.BOT,
        created_at=T0 + dt.timedelta(minutes=3),
    )
    ids = [first.id, second.id]
    assert await service.unread_counts(db_session, alice.id, ids) == {first.id: 2, second.id: 0}

    await service.mark_read(db_session, alice.id, first.id)
    assert await service.unread_counts(db_session, alice.id, ids) == {first.id: 0, second.id: 0}
    assert (await service.unread_counts(db_session, bob.id, ids))[first.id] == 2

    # A new message after the marker is unread again, counted alone.
    await _says(db_session, first, 4)
    assert (await service.unread_counts(db_session, alice.id, ids))[first.id] == 1
    await service.mark_read(db_session, alice.id, first.id)
    assert (await service.unread_counts(db_session, alice.id, ids))[first.id] == 0


async def test_a_message_stamped_before_but_stored_after_the_marker_stays_unread(
    db_session: AsyncSession,
) -> None:
    first, _, alice, _ = await _world(db_session)
    await _says(db_session, first, 10)
    await service.mark_read(db_session, alice.id, first.id)
    # The marker is the newest message's time, not the clock: a turn that started earlier
    # and stores its message only now is still unread.
    await _says(db_session, first, 11)
    assert (await service.unread_counts(db_session, alice.id, [first.id]))[first.id] == 1


async def test_marking_an_unknown_conversation_is_not_found(db_session: AsyncSession) -> None:
    _, _, alice, _ = await _world(db_session)
    with pytest.raises(NotFound):
        await service.mark_read(db_session, alice.id, uuid.uuid4())
