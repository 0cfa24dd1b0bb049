"""Which follow-up sequence a bot reply starts: ``cta_pending`` after a CTA offer (when the
organisation has one), ``no_reply`` otherwise; ``manual`` ones never start on their own."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import Conversation, FollowupSequence, FollowupStep, ScheduledAction
from funnel.core.models.enums import FollowupTrigger
from funnel.core.scheduling.followups import start_sequence
from tests.factories import make_channel, make_conversation, make_lead, make_organisation

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


async def _conversation(session: AsyncSession) -> Conversation:
    organisation = await make_organisation(session, quiet_hours={})
    channel = await make_channel(session, organisation)
    lead = await make_lead(session, channel)
    return await make_conversation(session, lead)


async def _sequence(
    session: AsyncSession,
    conversation: Conversation,
    trigger: FollowupTrigger,
    delay: int,
    *,
    active: bool = True,
) -> uuid.UUID:
    sequence = FollowupSequence(
        organisation_id=conversation.organisation_id,
        name=f"{trigger.value} {uuid.uuid4().hex[:6]}",
        trigger=trigger,
        is_active=active,
    )
    session.add(sequence)
    await session.flush()
    session.add(
        FollowupStep(
            organisation_id=conversation.organisation_id,
            sequence_id=sequence.id,
            position=1,
            delay_minutes=delay,
        )
    )
    await session.flush()
    return sequence.id


async def _start(
    session: AsyncSession, conversation: Conversation, *, cta: bool
) -> ScheduledAction | None:
    action_id = await start_sequence(
        session,
        conversation,
        now=NOW,
        key=uuid.uuid4().hex,
        quiet=None,
        timezone="UTC",
        cta_offered=cta,
    )
    if action_id is None:
        return None
    return (
        await session.execute(sa.select(ScheduledAction).where(ScheduledAction.id == action_id))
    ).scalar_one()


async def test_a_cta_offer_starts_the_cta_pending_sequence(db_session: AsyncSession) -> None:
    conversation = await _conversation(db_session)
    no_reply = await _sequence(db_session, conversation, FollowupTrigger.NO_REPLY, 10)
    cta_pending = await _sequence(db_session, conversation, FollowupTrigger.CTA_PENDING, 120)
    await _sequence(db_session, conversation, FollowupTrigger.MANUAL, 5)

    after_offer = await _start(db_session, conversation, cta=True)
    assert after_offer is not None
    assert after_offer.payload["sequence_id"] == str(cta_pending)
    assert after_offer.due_at == NOW + dt.timedelta(minutes=120)

    plain = await _start(db_session, conversation, cta=False)
    assert plain is not None
    assert plain.payload["sequence_id"] == str(no_reply)
    assert plain.due_at == NOW + dt.timedelta(minutes=10)


async def test_without_an_active_cta_sequence_the_no_reply_one_runs(
    db_session: AsyncSession,
) -> None:
    conversation = await _conversation(db_session)
    no_reply = await _sequence(db_session, conversation, FollowupTrigger.NO_REPLY, 10)
    await _sequence(db_session, conversation, FollowupTrigger.CTA_PENDING, 120, active=False)
    started = await _start(db_session, conversation, cta=True)
    assert started is not None
    assert started.payload["sequence_id"] == str(no_reply)


async def test_a_manual_sequence_alone_never_starts_by_itself(db_session: AsyncSession) -> None:
    conversation = await _conversation(db_session)
    await _sequence(db_session, conversation, FollowupTrigger.MANUAL, 5)
    assert await _start(db_session, conversation, cta=True) is None
    assert await _start(db_session, conversation, cta=False) is None
