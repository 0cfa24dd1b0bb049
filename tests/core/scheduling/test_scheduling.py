"""Scheduled actions on PostgreSQL with a controllable clock: the due query (SKIP LOCKED across
tenants), follow-up timing (quiet hours, the rolling daily cap, the sequence moving on), auto-
release, the template fallback, and human sends through the planner."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from funnel.core.db.engine import create_engine
from funnel.core.events.publisher import CHANNEL
from funnel.core.models import (
    Conversation,
    FollowupSequence,
    FollowupStep,
    Lead,
    Message,
    Organisation,
    Outbox,
    PipelineRun,
    ScheduledAction,
)
from funnel.core.models.enums import (
    ConversationMode,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    MessageType,
    OutboxKind,
    ScheduledActionKind,
    ScheduledActionStatus,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.scheduling.actions import claim_due_actions, schedule
from funnel.core.scheduling.handlers import (
    Outcome,
    complete_followup,
    prepare_action,
    schedule_template_fallback,
)
from funnel.core.scheduling.handoff import start_handoff
from funnel.core.sending.planner import SendVerdict
from funnel.core.sending.service import send_human_message
from funnel.core.settings import DatabaseSettings
from tests.factories import (
    make_channel,
    make_conversation,
    make_lead,
    make_message,
    make_organisation,
    make_template,
    make_user,
)

pytestmark = pytest.mark.postgres

IST = ZoneInfo("Asia/Kolkata")
#: 11:00 in Kolkata on a Monday: outside the default 21:00–09:00 quiet hours.
MORNING = dt.datetime(2026, 3, 2, 11, 0, tzinfo=IST).astimezone(dt.UTC)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    yield engine
    await engine.dispose()


async def world(
    session: AsyncSession, *, window_open: bool = True, **org: object
) -> tuple[Organisation, Conversation, Lead]:
    organisation = await make_organisation(
        session,
        timezone="Asia/Kolkata",
        quiet_hours={"start": "21:00", "end": "09:00"},
        followup_policy={"max_per_24h": 2, "max_total": 4, "min_gap_minutes": 60},
        **org,
    )
    channel = await make_channel(session, organisation)
    lead = await make_lead(session, channel, name="Asha Rao")
    last_inbound = MORNING - (dt.timedelta(minutes=30) if window_open else dt.timedelta(hours=30))
    conversation = await make_conversation(
        session,
        lead,
        last_inbound_at=last_inbound,
        window_expires_at=last_inbound + dt.timedelta(hours=24),
    )
    return organisation, conversation, lead


async def sequence(
    session: AsyncSession, organisation: Organisation, delays: list[int]
) -> FollowupSequence:
    seq = FollowupSequence(organisation_id=organisation.id, name=f"no reply {uuid.uuid4().hex}")
    session.add(seq)
    await session.flush()
    for position, delay in enumerate(delays, start=1):
        session.add(
            FollowupStep(
                organisation_id=organisation.id,
                sequence_id=seq.id,
                position=position,
                delay_minutes=delay,
            )
        )
    await session.flush()
    return seq


async def claimed_followup(
    session: AsyncSession,
    conversation: Conversation,
    *,
    kind: ScheduledActionKind = ScheduledActionKind.FOLLOWUP,
    payload: dict[str, object] | None = None,
    created_at: dt.datetime | None = None,
) -> uuid.UUID:
    action_id = await schedule(
        session,
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        kind=kind,
        due_at=MORNING - dt.timedelta(minutes=1),
        idempotency_key=f"test:{uuid.uuid4()}",
        payload=dict(payload or {}),
    )
    assert action_id is not None
    await session.execute(
        sa.update(ScheduledAction)
        .where(ScheduledAction.id == action_id)
        .values(
            status=ScheduledActionStatus.CLAIMED,
            claimed_at=MORNING,
            created_at=created_at or MORNING - dt.timedelta(minutes=5),
        )
    )
    return action_id


async def row(session: AsyncSession, action_id: uuid.UUID) -> ScheduledAction:
    await session.flush()
    return (
        await session.execute(sa.select(ScheduledAction).where(ScheduledAction.id == action_id))
    ).scalar_one()


# --- the due query ------------------------------------------------------------------------


async def test_claim_takes_due_rows_across_tenants_and_skips_locked_ones(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        ids = []
        for _ in range(2):  # two tenants
            _, conversation, _ = await world(session)
            for minutes in (-10, -5, 3):
                ids.append(
                    await schedule(
                        session,
                        organisation_id=conversation.organisation_id,
                        conversation_id=conversation.id,
                        kind=ScheduledActionKind.FOLLOWUP,
                        due_at=MORNING + dt.timedelta(minutes=minutes),
                        idempotency_key=f"k{minutes}:{conversation.id}",
                    )
                )
    async with AsyncSession(engine) as first, first.begin():
        taken = await claim_due_actions(first, now=MORNING, limit=2, claimed_by="a")
        assert [a.due_at for a in taken] == sorted(a.due_at for a in taken)
        # While the first claim's transaction holds its rows, a second scheduler gets the rest.
        async with AsyncSession(engine) as second, second.begin():
            other = await claim_due_actions(second, now=MORNING, limit=10, claimed_by="b")
    assert len(taken) == 2
    assert len(other) == 2
    assert {a.id for a in taken}.isdisjoint({a.id for a in other})
    assert len({a.organisation_id for a in [*taken, *other]}) == 2
    assert all(a.contact_wa_id and a.phone_number_id for a in taken)
    async with AsyncSession(engine) as session:
        statuses = (
            await session.execute(
                sa.select(ScheduledAction.status, sa.func.count()).group_by(ScheduledAction.status)
            )
        ).all()
    assert dict(statuses) == {ScheduledActionStatus.CLAIMED: 4, ScheduledActionStatus.PENDING: 2}
    # Later the not-yet-due ones come due; the claimed ones are still within their lease.
    async with AsyncSession(engine) as session, session.begin():
        later = await claim_due_actions(
            session, now=MORNING + dt.timedelta(minutes=4), limit=10, claimed_by="c"
        )
    assert len(later) == 2


async def test_a_claim_whose_event_never_left_is_taken_again_after_the_lease(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        _, conversation, _ = await world(session)
        await claimed_followup(session, conversation)
    async with AsyncSession(engine) as session, session.begin():
        assert await claim_due_actions(session, now=MORNING, limit=10, claimed_by="x") == []
        again = await claim_due_actions(
            session, now=MORNING + dt.timedelta(minutes=6), limit=10, claimed_by="x"
        )
    assert len(again) == 1


# --- follow-ups -----------------------------------------------------------------------------


async def test_a_followup_in_quiet_hours_waits_for_their_end(db_session: AsyncSession) -> None:
    _, conversation, _ = await world(db_session)
    action = await claimed_followup(db_session, conversation)
    late = dt.datetime(2026, 3, 2, 22, 30, tzinfo=IST).astimezone(dt.UTC)
    prepared = await prepare_action(db_session, conversation.organisation_id, action, late)
    assert prepared.outcome is Outcome.POSTPONED
    stored = await row(db_session, action)
    assert stored.status is ScheduledActionStatus.PENDING
    assert stored.due_at == dt.datetime(2026, 3, 3, 9, 0, tzinfo=IST)


async def test_the_daily_cap_is_rolling_and_postpones_until_a_slot_frees(
    db_session: AsyncSession,
) -> None:
    _, conversation, _ = await world(db_session)
    conversation.followups_sent_24h = 2
    conversation.last_followup_at = MORNING - dt.timedelta(hours=2)
    action = await claimed_followup(db_session, conversation)
    prepared = await prepare_action(db_session, conversation.organisation_id, action, MORNING)
    assert prepared.outcome is Outcome.POSTPONED
    # 24 h after the last one is 09:00 tomorrow local: exactly the end of quiet hours.
    assert prepared.due_at == MORNING - dt.timedelta(hours=2) + dt.timedelta(hours=24)
    # A day later the old count no longer applies (the original only reset it on an inbound).
    conversation.last_followup_at = MORNING - dt.timedelta(hours=25)
    (await row(db_session, action)).status = ScheduledActionStatus.CLAIMED
    prepared = await prepare_action(db_session, conversation.organisation_id, action, MORNING)
    assert prepared.outcome is Outcome.RUN_TURN


async def test_inside_the_window_the_pipeline_writes_it_and_the_sequence_moves_on(
    db_session: AsyncSession,
) -> None:
    organisation, conversation, _ = await world(db_session)
    seq = await sequence(db_session, organisation, [10, 180])
    action = await claimed_followup(
        db_session, conversation, payload={"sequence_id": str(seq.id), "position": 1}
    )
    prepared = await prepare_action(db_session, organisation.id, action, MORNING)
    assert prepared.run_turn
    assert (await row(db_session, action)).status is ScheduledActionStatus.CLAIMED
    await complete_followup(db_session, organisation.id, action, sent=True, now=MORNING)
    assert (await row(db_session, action)).status is ScheduledActionStatus.DONE
    assert conversation.followups_sent_24h == 1
    assert conversation.total_nudges == 1
    assert conversation.last_followup_at == MORNING
    nxt = (
        await db_session.execute(
            sa.select(ScheduledAction).where(
                ScheduledAction.conversation_id == conversation.id,
                ScheduledAction.status == ScheduledActionStatus.PENDING,
            )
        )
    ).scalar_one()
    assert nxt.payload["position"] == 2
    assert nxt.due_at == MORNING + dt.timedelta(minutes=180)


async def test_a_follow_up_turn_is_given_the_step_hint_or_the_wait_reason(
    db_session: AsyncSession,
) -> None:
    organisation, conversation, _ = await world(db_session)
    seq = await sequence(db_session, organisation, [10])
    await db_session.execute(
        sa.update(FollowupStep)
        .where(FollowupStep.sequence_id == seq.id)
        .values(message_hint="Mention the free site survey")
    )
    step_action = await claimed_followup(
        db_session, conversation, payload={"sequence_id": str(seq.id), "position": 1}
    )
    prepared = await prepare_action(db_session, organisation.id, step_action, MORNING)
    assert prepared.run_turn
    assert prepared.hint == "Mention the free site survey"

    wait_action = await claimed_followup(
        db_session,
        conversation,
        kind=ScheduledActionKind.WAIT_RESUME,
        payload={"reason": "They asked to be messaged after lunch about the quote"},
    )
    prepared = await prepare_action(db_session, organisation.id, wait_action, MORNING)
    assert prepared.run_turn
    assert prepared.hint == "They asked to be messaged after lunch about the quote"


async def test_a_silent_step_still_moves_the_sequence_on(db_session: AsyncSession) -> None:
    organisation, conversation, _ = await world(db_session)
    seq = await sequence(db_session, organisation, [10, 60])
    action = await claimed_followup(
        db_session, conversation, payload={"sequence_id": str(seq.id), "position": 1}
    )
    await prepare_action(db_session, organisation.id, action, MORNING)
    await complete_followup(db_session, organisation.id, action, sent=False, now=MORNING)
    assert conversation.total_nudges == 0
    pending = (
        await db_session.execute(
            sa.select(sa.func.count()).where(
                ScheduledAction.conversation_id == conversation.id,
                ScheduledAction.status == ScheduledActionStatus.PENDING,
            )
        )
    ).scalar_one()
    assert pending == 1


async def test_outside_the_window_the_approved_template_is_queued(
    db_session: AsyncSession,
) -> None:
    organisation, conversation, _ = await world(db_session, window_open=False)
    await make_template(
        db_session,
        organisation,
        status=TemplateStatus.APPROVED,
        purpose=TemplatePurpose.FOLLOWUP,
        components=[{"type": "BODY", "text": "Hi {{1}}, still thinking about solar?"}],
    )
    action = await claimed_followup(db_session, conversation)
    prepared = await prepare_action(db_session, organisation.id, action, MORNING)
    assert prepared.outcome is Outcome.DONE
    outbox = (
        await db_session.execute(sa.select(Outbox).where(Outbox.conversation_id == conversation.id))
    ).scalar_one()
    assert outbox.kind is OutboxKind.TEMPLATE
    assert outbox.payload["template"]["components"][0]["parameters"][0]["text"] == "Asha Rao"
    assert conversation.total_nudges == 1


@pytest.mark.parametrize("status", [TemplateStatus.PAUSED, TemplateStatus.PENDING, None])
async def test_outside_the_window_without_an_approved_template_nothing_is_sent(
    db_session: AsyncSession, status: TemplateStatus | None
) -> None:
    organisation, conversation, _ = await world(db_session, window_open=False)
    if status is not None:
        await make_template(
            db_session, organisation, status=status, purpose=TemplatePurpose.FOLLOWUP
        )
    action = await claimed_followup(db_session, conversation)
    prepared = await prepare_action(db_session, organisation.id, action, MORNING)
    assert prepared.outcome is Outcome.DONE
    assert "not sent" in prepared.detail
    count = (
        await db_session.execute(
            sa.select(sa.func.count()).where(Outbox.conversation_id == conversation.id)
        )
    ).scalar_one()
    assert count == 0


@pytest.mark.parametrize("why", ["replied", "opted_out", "human", "ghosted", "max_total"])
async def test_a_followup_is_stopped(db_session: AsyncSession, why: str) -> None:
    organisation, conversation, lead = await world(db_session)
    created = MORNING - dt.timedelta(minutes=5)
    if why == "replied":
        conversation.last_inbound_at = MORNING - dt.timedelta(minutes=1)
    elif why == "opted_out":
        lead.opted_out = True
        lead.opted_out_at = MORNING
    elif why == "human":
        conversation.mode = ConversationMode.HUMAN
    elif why == "ghosted":
        conversation.stage = conversation.stage.GHOSTED
    else:
        conversation.total_nudges = 4
    await db_session.flush()
    action = await claimed_followup(db_session, conversation, created_at=created)
    prepared = await prepare_action(db_session, organisation.id, action, MORNING)
    assert prepared.outcome is Outcome.SKIPPED
    assert (await row(db_session, action)).status is ScheduledActionStatus.DONE


async def test_a_repeated_event_does_nothing(db_session: AsyncSession) -> None:
    organisation, conversation, _ = await world(db_session)
    action = await claimed_followup(db_session, conversation, kind=ScheduledActionKind.WAIT_RESUME)
    assert (await prepare_action(db_session, organisation.id, action, MORNING)).run_turn
    await complete_followup(db_session, organisation.id, action, sent=True, now=MORNING)
    again = await prepare_action(db_session, organisation.id, action, MORNING)
    assert again.outcome is Outcome.SKIPPED


# --- handoff and auto-release ---------------------------------------------------------------


async def test_handoff_schedules_auto_release_and_an_idle_person_gets_released(
    db_session: AsyncSession,
) -> None:
    organisation, conversation, _ = await world(db_session, auto_release_minutes=120)
    await start_handoff(
        db_session, conversation, now=MORNING, minutes=120, reason="asked for a person", key="t"
    )
    assert conversation.mode is ConversationMode.HUMAN
    assert conversation.needs_attention
    release = (
        await db_session.execute(
            sa.select(ScheduledAction).where(
                ScheduledAction.conversation_id == conversation.id,
                ScheduledAction.kind == ScheduledActionKind.AUTO_RELEASE,
            )
        )
    ).scalar_one()
    assert release.due_at == MORNING + dt.timedelta(minutes=120)
    release.status = ScheduledActionStatus.CLAIMED

    # The person wrote an hour in: the release waits until they have been idle 120 minutes.
    conversation.last_human_message_at = MORNING + dt.timedelta(minutes=60)
    due = MORNING + dt.timedelta(minutes=120)
    prepared = await prepare_action(db_session, organisation.id, release.id, due)
    assert prepared.outcome is Outcome.POSTPONED
    assert prepared.due_at == MORNING + dt.timedelta(minutes=180)
    assert conversation.mode is ConversationMode.HUMAN

    (await row(db_session, release.id)).status = ScheduledActionStatus.CLAIMED
    later = MORNING + dt.timedelta(minutes=181)
    prepared = await prepare_action(db_session, organisation.id, release.id, later)
    assert prepared.outcome is Outcome.DONE
    released = await db_session.get(Conversation, conversation.id)
    assert released is not None
    assert released.mode.value == "bot"
    assert released.auto_release_at is None


# --- the template fallback after a 131047 ---------------------------------------------------


async def test_template_fallback_sends_the_reengagement_template_or_flags_attention(
    db_session: AsyncSession,
) -> None:
    organisation, conversation, _ = await world(db_session, window_open=False)
    action = await claimed_followup(
        db_session,
        conversation,
        kind=ScheduledActionKind.TEMPLATE_FALLBACK,
        payload={"purpose": "reengagement"},
    )
    prepared = await prepare_action(db_session, organisation.id, action, MORNING)
    assert prepared.outcome is Outcome.DONE
    assert conversation.needs_attention
    assert "reengagement" in (conversation.attention_reason or "")

    await make_template(
        db_session,
        organisation,
        status=TemplateStatus.APPROVED,
        purpose=TemplatePurpose.REENGAGEMENT,
    )
    action = await claimed_followup(
        db_session,
        conversation,
        kind=ScheduledActionKind.TEMPLATE_FALLBACK,
        payload={"purpose": "reengagement"},
    )
    await prepare_action(db_session, organisation.id, action, MORNING)
    outbox = (
        await db_session.execute(sa.select(Outbox).where(Outbox.conversation_id == conversation.id))
    ).scalar_one()
    assert outbox.kind is OutboxKind.TEMPLATE


@pytest.mark.parametrize(
    ("author", "action", "answered_a_message", "purpose"),
    [
        (MessageAuthor.BOT, "initiate_cta", True, TemplatePurpose.CTA),
        (MessageAuthor.BOT, "handoff", True, TemplatePurpose.HANDOFF),
        (MessageAuthor.BOT, "respond", False, TemplatePurpose.FOLLOWUP),
        (MessageAuthor.BOT, "respond", True, TemplatePurpose.REENGAGEMENT),
        (MessageAuthor.HUMAN, None, True, TemplatePurpose.REENGAGEMENT),
    ],
)
async def test_the_template_fallback_purpose_fits_the_undelivered_message(
    db_session: AsyncSession,
    author: MessageAuthor,
    action: str | None,
    answered_a_message: bool,
    purpose: TemplatePurpose,
) -> None:
    organisation, conversation, _ = await world(db_session, window_open=False)
    inbound = await make_message(db_session, conversation)
    run_id: uuid.UUID | None = None
    if action is not None:
        run = PipelineRun(
            organisation_id=organisation.id,
            conversation_id=conversation.id,
            provider="offline",
            trigger_message_ids=[inbound.id] if answered_a_message else [],
            decision={"action": action},
        )
        db_session.add(run)
        await db_session.flush()
        run_id = run.id
    undelivered = await make_message(
        db_session,
        conversation,
        direction=MessageDirection.OUTBOUND,
        author=author,
        status=MessageStatus.FAILED,
        wamid=None,
        pipeline_run_id=run_id,
    )
    action_id = await schedule_template_fallback(
        db_session, organisation.id, conversation.id, undelivered.id, now=MORNING
    )
    assert action_id is not None
    assert (await row(db_session, action_id)).payload["purpose"] == purpose.value


# --- a person's message through the planner -------------------------------------------------


async def test_human_sends_go_through_the_planner(db_session: AsyncSession) -> None:
    organisation, conversation, lead = await world(db_session)
    conversation.mode = ConversationMode.HUMAN
    await db_session.flush()
    text = {"type": "text", "text": {"body": "Hi, this is Priya from Acme", "preview_url": False}}
    user_id = (await make_user(db_session)).id
    sent = await send_human_message(
        db_session,
        organisation_id=organisation.id,
        conversation_id=conversation.id,
        user_id=user_id,
        message=text,
        preview="Hi, this is Priya from Acme",
        idempotency_key="human:1",
        now=MORNING,
    )
    assert sent.plan.verdict is SendVerdict.FREE_FORM
    assert sent.outbox_id is not None
    assert conversation.last_human_message_at == MORNING
    assert conversation.auto_release_at == MORNING + dt.timedelta(
        minutes=organisation.auto_release_minutes
    )
    message = (
        await db_session.execute(
            sa.select(Message).where(
                Message.conversation_id == conversation.id, Message.author == MessageAuthor.HUMAN
            )
        )
    ).scalar_one()
    assert message.author_user_id == user_id

    # Window closed, no template: refused with a reason, flagged.
    conversation.window_expires_at = MORNING - dt.timedelta(minutes=1)
    refused = await send_human_message(
        db_session,
        organisation_id=organisation.id,
        conversation_id=conversation.id,
        user_id=user_id,
        message=text,
        preview="Hi",
        idempotency_key="human:2",
        now=MORNING,
    )
    assert refused.plan.verdict is SendVerdict.BLOCKED
    assert refused.outbox_id is None
    assert conversation.needs_attention

    lead.opted_out = True
    lead.opted_out_at = MORNING
    conversation.window_expires_at = MORNING + dt.timedelta(hours=1)
    await db_session.flush()
    opted = await send_human_message(
        db_session,
        organisation_id=organisation.id,
        conversation_id=conversation.id,
        user_id=user_id,
        message=text,
        preview="Hi",
        idempotency_key="human:3",
        now=MORNING,
    )
    assert opted.plan.reason is not None
    assert opted.plan.reason.value == "opted_out"


async def test_only_a_message_waiting_for_a_turn_holds_a_followup_back(
    db_session: AsyncSession,
) -> None:
    organisation, conversation, _ = await world(db_session)
    # A reaction (👍) never gets a turn: the nudge still goes.
    await make_message(
        db_session,
        conversation,
        type=MessageType.REACTION,
        text=None,
        whatsapp_timestamp=MORNING - dt.timedelta(minutes=40),
    )
    action = await claimed_followup(db_session, conversation)
    assert (await prepare_action(db_session, organisation.id, action, MORNING)).run_turn
    # A text no turn has answered yet: the turn will, the nudge stands down.
    await make_message(db_session, conversation, text="hello?")
    second = await claimed_followup(db_session, conversation)
    prepared = await prepare_action(db_session, organisation.id, second, MORNING)
    assert prepared.outcome is Outcome.SKIPPED


async def test_a_handoff_notifies_the_dashboard_when_it_commits(
    engine: AsyncEngine, database_url: str
) -> None:
    received: list[str] = []
    listener = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await listener.add_listener(CHANNEL, lambda *args: received.append(args[-1]))
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            _, conversation, _ = await world(session)
            await start_handoff(
                session, conversation, now=MORNING, minutes=60, reason="asked", key="n"
            )
            assert received == []  # nothing before the commit
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.05)
    finally:
        await listener.close()
    (payload,) = received
    event = json.loads(payload)
    assert event["type"] == "attention.changed"
    assert event["conversation_id"] == str(conversation.id)
    assert "reason" not in event  # ids only on the shared channel
