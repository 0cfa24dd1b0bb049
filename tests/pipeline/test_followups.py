"""Follow-ups and the human takeover through the whole worker: PostgreSQL, Tansu, the sandbox,
the four-stage pipeline on the offline provider, and the scheduler on a movable clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from funnel.core.llm.offline import OfflineLlmClient
from funnel.core.models import (
    Conversation,
    FollowupSequence,
    FollowupStep,
    Organisation,
    ScheduledAction,
)
from funnel.core.models.enums import (
    ConversationMode,
    ScheduledActionKind,
    ScheduledActionStatus,
)
from funnel.core.turns.contract import Turn, TurnResult
from funnel.core.turns.htl_pipeline import HtlPipeline, to_context
from tests.pipeline.scheduled_support import MovableClock, clocked_worker
from tests.pipeline.support import World, epoch, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


async def configure(
    world: World,
    *,
    steps: list[int],
    auto_release_minutes: int = 120,
    hints: list[str | None] | None = None,
) -> None:
    async with world.engine.begin() as c:
        await c.execute(
            sa.update(Organisation)
            .where(Organisation.id == world.organisation_id)
            .values(quiet_hours={}, auto_release_minutes=auto_release_minutes)
        )
        if steps:
            sequence_id = (
                await c.execute(
                    sa.insert(FollowupSequence)
                    .values(organisation_id=world.organisation_id, name="no reply")
                    .returning(FollowupSequence.id)
                )
            ).scalar_one()
            for position, delay in enumerate(steps, start=1):
                await c.execute(
                    sa.insert(FollowupStep).values(
                        organisation_id=world.organisation_id,
                        sequence_id=sequence_id,
                        position=position,
                        delay_minutes=delay,
                        message_hint=(hints or [None] * len(steps))[position - 1],
                    )
                )


def pipeline(world: World) -> HtlPipeline:
    return HtlPipeline(OfflineLlmClient(), settings=world.settings)


async def actions(world: World, kind: ScheduledActionKind) -> list[tuple[str, dt.datetime]]:
    async with world.engine.connect() as c:
        rows = await c.execute(
            sa.select(ScheduledAction.status, ScheduledAction.due_at)
            .where(ScheduledAction.kind == kind)
            .order_by(ScheduledAction.due_at)
        )
        return [(r.status.value, r.due_at) for r in rows]


async def test_silence_brings_the_sequence_steps_on_time(world: World) -> None:
    await configure(world, steps=[10, 180])
    wa_id = "919844444444"
    clock = MovableClock()
    async with clocked_worker(world, pipeline(world), clock):
        await world.publish(world.text(wa_id, "Hi, I'm looking at solar for my house", epoch()))
        await wait_for(lambda: len(world.replies_to(wa_id)) == 1, what="the first reply")
        await wait_for(
            lambda: actions(world, ScheduledActionKind.FOLLOWUP),
            what="step 1 scheduled",
        )
        ((status, due),) = await actions(world, ScheduledActionKind.FOLLOWUP)
        assert status == "pending"
        assert dt.timedelta(minutes=9) < due - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=10)

        # Not due yet: the scheduler polls (every 50 ms) and leaves it alone.
        clock.advance(minutes=5)
        await asyncio.sleep(0.5)
        assert len(world.replies_to(wa_id)) == 1
        assert [s for s, _ in await actions(world, ScheduledActionKind.FOLLOWUP)] == ["pending"]

        clock.advance(minutes=6)
        await wait_for(lambda: len(world.replies_to(wa_id)) == 2, what="the follow-up")
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.total_nudges)),
            equals=1,
            what="the nudge counted",
        )
        steps = await actions(world, ScheduledActionKind.FOLLOWUP)
    assert [s for s, _ in steps] == ["done", "pending"]
    # Step 2 is 180 minutes after step 1 went out (on the scheduler's clock).
    assert steps[1][1] - steps[0][1] >= dt.timedelta(minutes=180)
    async with world.engine.connect() as c:
        conversation = (await c.execute(sa.select(Conversation))).one()
    assert conversation.followups_sent_24h == 1
    assert conversation.last_followup_at is not None


class RecordingPipeline(HtlPipeline):
    """The real pipeline, keeping each turn it was given."""

    turns: list[Turn]

    async def run_turn(self, turn: Turn) -> TurnResult:
        self.turns.append(turn)
        return await super().run_turn(turn)


async def test_the_step_message_hint_reaches_the_follow_up_turn(world: World) -> None:
    hint = "Remind them the site survey is free this month"
    await configure(world, steps=[10], hints=[hint])
    wa_id = "919855555555"
    recording = RecordingPipeline(OfflineLlmClient(), settings=world.settings)
    recording.turns = []
    clock = MovableClock()
    async with clocked_worker(world, recording, clock):
        await world.publish(world.text(wa_id, "Hi, I'm looking at solar for my house", epoch()))
        await wait_for(lambda: len(world.replies_to(wa_id)) == 1, what="the first reply")
        await wait_for(
            lambda: actions(world, ScheduledActionKind.FOLLOWUP), what="step 1 scheduled"
        )
        clock.advance(minutes=11)
        await wait_for(lambda: len(world.replies_to(wa_id)) == 2, what="the follow-up")
    customer_turn, followup_turn = recording.turns
    assert customer_turn.followup_hint is None
    assert followup_turn.trigger == "followup"
    assert followup_turn.followup_hint == hint
    # What Brain and Mouth are shown for this turn carries it.
    assert to_context(followup_turn).followup_hint == hint


async def test_a_customer_reply_cancels_the_pending_step(world: World) -> None:
    await configure(world, steps=[30])
    wa_id = "919855555555"
    async with clocked_worker(world, pipeline(world), MovableClock()):
        await world.publish(world.text(wa_id, "Hi", epoch()))
        await wait_for(lambda: actions(world, ScheduledActionKind.FOLLOWUP), what="step 1")
        await world.publish(world.text(wa_id, "How long does installation take?", epoch(5)))
        await wait_for(lambda: len(world.replies_to(wa_id)) == 2, what="the second reply")

        async def two_steps() -> bool:
            return len(await actions(world, ScheduledActionKind.FOLLOWUP)) == 2

        await wait_for(two_steps, what="the sequence restarted")
        steps = await actions(world, ScheduledActionKind.FOLLOWUP)
    # The first step was cancelled by the reply; the second reply started the sequence again.
    assert sorted(s for s, _ in steps) == ["cancelled", "pending"]


async def test_handoff_keeps_the_bot_silent_until_auto_release_then_it_answers(
    world: World,
) -> None:
    await configure(world, steps=[], auto_release_minutes=30)
    wa_id = "919866666666"
    clock = MovableClock()
    async with clocked_worker(world, pipeline(world), clock):
        await world.publish(world.text(wa_id, "I want to talk to a human agent please", epoch()))
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.mode)),
            equals=ConversationMode.HUMAN,
            what="handed off",
        )
        # The customer is told a person will follow up (the notice goes out with the handoff).
        await wait_for(lambda: len(world.replies_to(wa_id)) == 1, what="the handoff notice")
        release = await actions(world, ScheduledActionKind.AUTO_RELEASE)
        assert [s for s, _ in release] == ["pending"]

        await world.publish(world.text(wa_id, "hello? anyone?", epoch(2)))
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(sa.func.count())
                .select_from(ScheduledAction)
                .where(ScheduledAction.status == ScheduledActionStatus.PENDING),
            ),
            equals=1,
            what="still waiting to release",
        )
        assert len(world.replies_to(wa_id)) == 1

        clock.advance(minutes=31)
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.mode)),
            equals=ConversationMode.BOT,
            what="auto-released",
        )
        await world.publish(world.text(wa_id, "How long does installation take?", epoch(4)))
        await wait_for(lambda: len(world.replies_to(wa_id)) == 2, what="the bot answering again")
    async with world.engine.connect() as c:
        conversation = (await c.execute(sa.select(Conversation))).one()
    assert conversation.auto_release_at is None
    # Releasing the bot does not resolve the customer's issue: the flag stays for a person.
    assert conversation.needs_attention is True
