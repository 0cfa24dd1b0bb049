"""The four-stage pipeline with the offline provider, through the whole worker."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from funnel.core.llm.offline import OfflineLlmClient
from funnel.core.models import (
    Conversation,
    Lead,
    Organisation,
    Outbox,
    PipelineRun,
    PipelineStep,
)
from funnel.core.models.enums import ConversationMode
from funnel.core.turns.htl_pipeline import HtlPipeline
from tests.pipeline.support import World, epoch, running_worker, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


def pipeline(world: World) -> HtlPipeline:
    return HtlPipeline(OfflineLlmClient(), settings=world.settings)


async def test_a_greeting_gets_a_reply_with_a_full_trace(world: World) -> None:
    await world.publish(world.text("919811111111", "Hi there!", epoch()))
    async with running_worker(world.settings, pipeline(world)):
        await wait_for(lambda: world.replies_to("919811111111"), what="a greeting reply")
    (reply,) = world.replies_to("919811111111")
    assert reply.strip()
    async with world.engine.connect() as c:
        run = (await c.execute(sa.select(PipelineRun.provider, PipelineRun.is_offline))).one()
        assert run.provider == "offline"
        assert run.is_offline is True
        stages = set((await c.execute(sa.select(PipelineStep.stage))).scalars())
    assert {"eyes", "brain", "policy", "mouth"} <= {s.value for s in stages}


async def test_asking_for_a_person_hands_off_and_the_bot_goes_quiet(world: World) -> None:
    wa_id = "919822222222"
    await world.publish(world.text(wa_id, "I want to talk to a human agent please", epoch()))
    async with running_worker(world.settings, pipeline(world)):
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.mode)),
            equals=ConversationMode.HUMAN,
            what="the conversation handed to a person",
        )
        # The customer is told a person will follow up; after that, the bot says nothing.
        await wait_for(lambda: world.replies_to(wa_id), what="the handoff notice")
        replies_after_handoff = len(world.replies_to(wa_id))
        await world.publish(world.text(wa_id, "hello? anyone?", epoch(2)))
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(sa.func.count()).select_from(PipelineRun),
            ),
            equals=2,
            what="the second turn recorded",
        )
    async with world.engine.connect() as c:
        conversation = (await c.execute(sa.select(Conversation))).one()
    assert conversation.needs_attention is True
    assert conversation.attention_reason
    # Nothing more from the bot once a person has the conversation.
    assert len(world.replies_to(wa_id)) == replies_after_handoff


async def test_without_the_handoff_notice_the_handoff_is_silent(world: World) -> None:
    """An organisation that does not want the customer told (notify_customer_on_handoff off)
    still gets the handoff, the attention flag and the human mode; the customer gets nothing."""
    async with world.engine.begin() as c:
        await c.execute(
            sa.update(Organisation)
            .where(Organisation.id == world.organisation_id)
            .values(notify_customer_on_handoff=False)
        )
    wa_id = "919844444444"
    await world.publish(world.text(wa_id, "I want to talk to a human agent please", epoch()))
    async with running_worker(world.settings, pipeline(world)):
        await wait_for(
            lambda: scalar(world.engine, sa.select(sa.func.count()).select_from(PipelineRun)),
            equals=1,
            what="the turn recorded",
        )
    async with world.engine.connect() as c:
        conversation = (await c.execute(sa.select(Conversation))).one()
        decision = await c.scalar(sa.select(PipelineRun.decision))
        queued = await c.scalar(sa.select(sa.func.count()).select_from(Outbox))
    assert queued == 0
    assert conversation.mode is ConversationMode.HUMAN
    assert conversation.needs_attention is True
    assert decision is not None
    assert decision["action"] == "handoff"
    assert world.replies_to(wa_id) == []


async def test_stop_records_the_opt_out_and_sends_nothing(world: World) -> None:
    wa_id = "919833333333"
    await world.publish(world.text(wa_id, "STOP", epoch()))
    async with running_worker(world.settings, pipeline(world)):
        await wait_for(
            lambda: scalar(world.engine, sa.select(Lead.opted_out)),
            equals=True,
            what="the opt-out recorded",
        )
        await wait_for(
            lambda: scalar(world.engine, sa.select(sa.func.count()).select_from(PipelineRun)),
            equals=1,
            what="the turn recorded",
        )
    assert world.replies_to(wa_id) == []
