"""The schema's own guarantees: idempotent ingest, one lead per contact, one open conversation,
tenant-consistent references, enum checks. Each would otherwise be a race in application code."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import (
    Conversation,
    Lead,
    Message,
    MessageStatusEvent,
    Organisation,
    Outbox,
    ScheduledAction,
)
from funnel.core.models.enums import (
    ConversationMode,
    IntentLevel,
    MessageStatus,
    OutboxKind,
    ScheduledActionKind,
)
from tests.factories import (
    make_channel,
    make_conversation,
    make_lead,
    make_message,
    make_organisation,
    now,
)


async def _rejected(session: AsyncSession, obj: object) -> IntegrityError:
    """Flush ``obj`` in a savepoint and return the IntegrityError it must raise."""
    with pytest.raises(IntegrityError) as caught:
        await _flush_in_savepoint(session, obj)
    return caught.value


async def _flush_in_savepoint(session: AsyncSession, obj: object) -> None:
    # The savepoint's rollback also expunges ``obj``, so the session stays usable.
    async with session.begin_nested():
        session.add(obj)
        await session.flush()


async def _conversation(session: AsyncSession) -> Conversation:
    organisation = await make_organisation(session)
    lead = await make_lead(session, await make_channel(session, organisation))
    return await make_conversation(session, lead)


async def test_duplicate_wamid_in_one_organisation_is_rejected(db_session: AsyncSession) -> None:
    conversation = await _conversation(db_session)
    first = await make_message(db_session, conversation)
    duplicate = Message(
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        lead_id=conversation.lead_id,
        direction=first.direction,
        author=first.author,
        status=MessageStatus.RECEIVED,
        wamid=first.wamid,
    )
    error = await _rejected(db_session, duplicate)
    assert "uq_messages_organisation_id_wamid" in str(error)


async def test_same_wamid_in_two_organisations_is_allowed(db_session: AsyncSession) -> None:
    first = await make_message(db_session, await _conversation(db_session))
    second = await make_message(db_session, await _conversation(db_session), wamid=first.wamid)
    assert second.wamid == first.wamid
    assert second.organisation_id != first.organisation_id


async def test_outbound_messages_without_wamid_do_not_collide(db_session: AsyncSession) -> None:
    conversation = await _conversation(db_session)
    await make_message(db_session, conversation, wamid=None, status=MessageStatus.PENDING)
    await make_message(db_session, conversation, wamid=None, status=MessageStatus.PENDING)
    count = await db_session.scalar(
        sa.select(sa.func.count()).where(Message.conversation_id == conversation.id)
    )
    assert count == 2


async def test_repeated_status_webhook_is_stored_once(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    statement = (
        insert(MessageStatusEvent)
        .values(
            organisation_id=organisation.id,
            wamid="wamid.status-1",
            status=MessageStatus.DELIVERED,
            occurred_at=now(),
            raw={"status": "delivered"},
        )
        .on_conflict_do_nothing(index_elements=["organisation_id", "wamid", "status"])
    )
    first = await db_session.execute(statement)
    again = await db_session.execute(statement)
    assert (first.rowcount, again.rowcount) == (1, 0)  # type: ignore[attr-defined]

    read = statement.values(status=MessageStatus.READ)
    assert (await db_session.execute(read)).rowcount == 1  # type: ignore[attr-defined]
    rows = await db_session.scalars(
        sa.select(MessageStatusEvent.status)
        .where(MessageStatusEvent.organisation_id == organisation.id)
        .order_by(MessageStatusEvent.status)
    )
    assert rows.all() == [MessageStatus.DELIVERED, MessageStatus.READ]


async def test_one_lead_per_phone_number_per_channel(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(db_session, organisation)
    lead = await make_lead(db_session, channel)

    duplicate = Lead(organisation_id=organisation.id, channel_id=channel.id, wa_id=lead.wa_id)
    assert "uq_leads_organisation_id_channel_id_wa_id" in str(
        await _rejected(db_session, duplicate)
    )
    # The same number on another of the organisation's channels is another contact.
    other_channel = await make_channel(db_session, organisation)
    assert (await make_lead(db_session, other_channel, wa_id=lead.wa_id)).id != lead.id


async def test_username_contacts_are_unique_by_bsuid(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(db_session, organisation)
    # Two contacts without a phone number: NULL wa_ids do not collide.
    await make_lead(db_session, channel, wa_id=None, bsuid="IN.bsuid-1")
    await make_lead(db_session, channel, wa_id=None, bsuid="IN.bsuid-2")

    duplicate = Lead(
        organisation_id=organisation.id, channel_id=channel.id, wa_id=None, bsuid="IN.bsuid-1"
    )
    assert "uq_leads_organisation_id_channel_id_bsuid" in str(
        await _rejected(db_session, duplicate)
    )


async def test_a_lead_needs_a_phone_number_or_a_bsuid(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(db_session, organisation)
    anonymous = Lead(organisation_id=organisation.id, channel_id=channel.id)
    assert "ck_leads_has_contact_id" in str(await _rejected(db_session, anonymous))


async def test_at_most_one_open_conversation_per_lead(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    lead = await make_lead(db_session, await make_channel(db_session, organisation))
    first = await make_conversation(db_session, lead)

    second = Conversation(
        organisation_id=lead.organisation_id, lead_id=lead.id, channel_id=lead.channel_id
    )
    assert "uq_conversations_organisation_id_lead_id_open" in str(
        await _rejected(db_session, second)
    )

    first.mode = ConversationMode.CLOSED
    first.closed_at = now()
    await db_session.flush()
    reopened = await make_conversation(db_session, lead)
    assert reopened.id != first.id


async def test_a_row_cannot_point_at_another_tenants_parent(db_session: AsyncSession) -> None:
    """Foreign-key checks ignore row-level security; the composite key does not."""
    conversation_a = await _conversation(db_session)
    organisation_b = await make_organisation(db_session)
    intruder = Message(
        organisation_id=organisation_b.id,
        conversation_id=conversation_a.id,
        lead_id=conversation_a.lead_id,
        direction="inbound",
        author="lead",
        status=MessageStatus.RECEIVED,
    )
    assert "fk_messages_organisation_id_conversation_id" in str(
        await _rejected(db_session, intruder)
    )


async def test_enums_are_stored_as_lowercase_values_and_checked(db_session: AsyncSession) -> None:
    conversation = await _conversation(db_session)
    conversation.intent_level = IntentLevel.VERY_HIGH
    await db_session.flush()
    stored = await db_session.scalar(
        sa.text("SELECT intent_level FROM conversations WHERE id = :id"), {"id": conversation.id}
    )
    assert stored == "very_high"

    with pytest.raises(IntegrityError, match="ck_conversations_stage"):
        async with db_session.begin_nested():
            await db_session.execute(
                sa.text("UPDATE conversations SET stage = 'FOLLOWUP_10M' WHERE id = :id"),
                {"id": conversation.id},
            )


async def test_updated_at_is_set_on_insert_and_moves_on_update(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    assert organisation.updated_at is not None
    # now() is the transaction's start time; pin the old value in the past to see it move.
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    await db_session.execute(
        sa.update(Organisation).where(Organisation.id == organisation.id).values(updated_at=past)
    )
    organisation.name = "Renamed"
    await db_session.flush()
    await db_session.refresh(organisation)
    assert organisation.updated_at > past


async def test_deleting_an_organisation_deletes_its_data(db_session: AsyncSession) -> None:
    conversation = await _conversation(db_session)
    await make_message(db_session, conversation)
    await db_session.execute(
        sa.delete(Organisation).where(Organisation.id == conversation.organisation_id)
    )
    remaining = await db_session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.organisation_id == conversation.organisation_id)
    )
    assert remaining == 0


async def test_outbox_and_scheduled_actions_are_idempotent_per_organisation(
    db_session: AsyncSession,
) -> None:
    """A redelivered event recomputes the same key; the second reply or follow-up is refused."""
    conversation = await _conversation(db_session)
    common = {"organisation_id": conversation.organisation_id, "conversation_id": conversation.id}
    send = {
        **common,
        "channel_id": conversation.channel_id,
        "kind": OutboxKind.MESSAGE,
        "payload": {"type": "text", "text": {"body": "hi"}},
        "idempotency_key": "reply:wamid.1",
    }
    db_session.add(Outbox(**send))
    await db_session.flush()
    assert "uq_outbox_organisation_id_idempotency_key" in str(
        await _rejected(db_session, Outbox(**send))
    )

    action = {
        **common,
        "kind": ScheduledActionKind.FOLLOWUP,
        "due_at": now(),
        "idempotency_key": "followup:1",
    }
    db_session.add(ScheduledAction(**action))
    await db_session.flush()
    assert "uq_scheduled_actions_organisation_id_idempotency_key" in str(
        await _rejected(db_session, ScheduledAction(**action))
    )

    # Keys are per organisation: another tenant's identical key is unrelated.
    other = await _conversation(db_session)
    db_session.add(
        ScheduledAction(
            **{**action, "organisation_id": other.organisation_id, "conversation_id": other.id}
        )
    )
    await db_session.flush()
