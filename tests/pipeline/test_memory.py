"""Memory in the running worker: after the reply, off its critical path, over everything since
the last summary (a person's messages included), bounded however long the conversation gets."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from funnel.core.db.engine import session_factory
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.htl.schemas import SUMMARY_MAX
from funnel.core.llm.offline import OfflineLlmClient
from funnel.core.models import Conversation, Lead, Message
from funnel.core.models.enums import MessageAuthor
from funnel.core.sending.service import send_human_message
from funnel.core.turns.contract import Turn, TurnMessage
from funnel.core.turns.htl_pipeline import HtlPipeline, MemoryUpdate
from tests.factories import make_user
from tests.pipeline.scheduled_support import MovableClock, clocked_worker
from tests.pipeline.support import World, epoch, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

HUMAN_TEXT = "Priya here: our engineer visits Monday"


class GatedMemory(HtlPipeline):
    """Memory waits for the test's go-ahead and records what it was given."""

    def __init__(self, world: World) -> None:
        super().__init__(OfflineLlmClient(), settings=world.settings)
        self.go = asyncio.Event()
        self.seen: list[list[tuple[MessageAuthor, str]]] = []

    async def summarise(self, turn: Turn, messages: Sequence[TurnMessage]) -> MemoryUpdate:
        await self.go.wait()
        self.seen.append([(m.author, m.text or "") for m in messages])
        return await super().summarise(turn, messages)


async def test_memory_runs_after_the_reply_and_includes_a_persons_message(world: World) -> None:
    wa_id = "919813131313"
    memory = GatedMemory(world)
    async with clocked_worker(world, memory, MovableClock()):
        await world.publish(world.text(wa_id, "Hi, I'm Ravi from Sunrise Traders", epoch()))
        # The reply goes out while Memory is still held back: it is not on the critical path.
        await wait_for(lambda: world.replies_to(wa_id), what="the reply")
        assert await scalar(world.engine, sa.select(Conversation.summary_message_count)) == 0
        memory.go.set()
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.summary_message_count)),
            equals=2,
            what="the first summary",
        )
        first = await scalar(world.engine, sa.select(Conversation.rolling_summary))
        assert first

        # A person writes from the dashboard (no turn sees it), then the customer again.
        conversation_id = await scalar(world.engine, sa.select(Conversation.id))
        sessions = session_factory(world.engine)
        async with sessions() as session, session.begin():
            user = await make_user(session)
            await scope_to_organisation(session, world.organisation_id)
            await send_human_message(
                session,
                organisation_id=world.organisation_id,
                conversation_id=conversation_id,
                user_id=user.id,
                message={
                    "type": "text",
                    "text": {"body": "Priya here: our engineer visits Monday"},
                },
                preview="Priya here: our engineer visits Monday",
                idempotency_key="human:memory",
            )
        await world.publish(world.text(wa_id, "Great, what does the warranty cover?", epoch(5)))
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.summary_message_count)),
            equals=5,
            what="the second summary",
        )
    summarised = memory.seen[-1]
    assert (MessageAuthor.HUMAN, HUMAN_TEXT) in summarised
    assert summarised[0][0] is MessageAuthor.HUMAN  # it continues where the last one stopped
    total = await scalar(world.engine, sa.select(sa.func.count()).select_from(Message))
    assert total == 5
    facts = await scalar(world.engine, sa.select(Lead.facts))
    assert isinstance(facts, dict)


async def test_the_summary_stays_bounded_over_a_long_conversation(world: World) -> None:
    wa_id = "919814141414"
    async with clocked_worker(
        world, HtlPipeline(OfflineLlmClient(), settings=world.settings), MovableClock()
    ):
        for i in range(12):
            await world.publish(
                world.text(
                    wa_id,
                    f"Question {i}: how long does installation take for a {i + 3} kW roof "
                    "in Pune, and what does the warranty cover for panels and inverter?",
                    epoch(i * 3),
                )
            )
            await wait_for(lambda i=i: len(world.replies_to(wa_id)) > i, what=f"reply {i}")
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.summary_message_count)),
            equals=24,
            what="everything summarised",
        )
    summary = await scalar(world.engine, sa.select(Conversation.rolling_summary))
    assert 0 < len(summary) <= SUMMARY_MAX
