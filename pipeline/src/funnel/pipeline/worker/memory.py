"""Memory after the turn: the rolling summary and lead facts, off the reply's critical path.

After a turn's decision is committed (the reply is already in the outbox, so nothing here can
delay it), :meth:`MemoryRunner.schedule` starts a background task, bounded by a semaphore, that
folds every message since the last summary into ``conversations.rolling_summary`` and
``leads.facts``: the customer's, the bot's, human agents' (sent from the dashboard, never seen by
a turn) and follow-ups. ``conversations.summary_message_count`` says how far the summary
reaches, so nothing is summarised twice or skipped, and the next turn's prompt carries a bounded
summary plus a token-budgeted tail instead of an ever-growing history.

Runs for one conversation are coalesced: a turn finishing while that conversation's summary is
being written marks it dirty and one more run follows, rather than two racing. The write is
conditional on ``summary_message_count`` still being what the run read, so even two workers
(a rebalance overlap) cannot regress the summary.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.dialects.postgresql import JSONB

from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.models import Conversation, Lead, Message
from funnel.core.turns.contract import Turn, TurnMessage
from funnel.core.turns.htl_pipeline import MemoryUpdate
from funnel.core.turns.service import load_turn
from funnel.pipeline.worker.resources import Resources

log = logging.getLogger(__name__)

MEMORY_RUNS = Counter(
    "funnel_worker_memory_runs_total",
    "Memory (summary) runs, by outcome (updated, kept, raced, error).",
    ["outcome"],
)
MEMORY_TOKENS = Counter("funnel_worker_memory_input_tokens_total", "Prompt tokens spent on Memory.")

#: At most this many messages go into one Memory call; older unsummarised ones (a long human
#: session) are covered by the count but not re-read, which keeps Memory's own prompt bounded.
MAX_MESSAGES = 40


@runtime_checkable
class SupportsMemory(Protocol):
    async def summarise(self, turn: Turn, messages: Sequence[TurnMessage]) -> MemoryUpdate: ...


class MemoryRunner:
    def __init__(
        self,
        resources: Resources,
        memory: SupportsMemory,
        *,
        concurrency: int = 4,
        max_messages: int = MAX_MESSAGES,
    ) -> None:
        self.res = resources
        self.memory = memory
        self.max_messages = max_messages
        self._slots = asyncio.Semaphore(concurrency)
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._dirty: set[uuid.UUID] = set()

    def schedule(self, organisation_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        """Summarise this conversation soon. Returns at once."""
        if conversation_id in self._running:
            self._dirty.add(conversation_id)
            return
        task = asyncio.create_task(self._loop(organisation_id, conversation_id))
        self._running[conversation_id] = task

    async def drain(self) -> None:
        """Wait for every scheduled summary (shutdown, tests)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def _loop(self, organisation_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        try:
            while True:
                self._dirty.discard(conversation_id)
                try:
                    async with self._slots:
                        await self.run_once(organisation_id, conversation_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The summary is an optimisation of the prompt, not a correctness
                    # requirement: the next turn's run picks up where this one failed.
                    log.exception("memory.failed")
                    MEMORY_RUNS.labels(outcome="error").inc()
                if conversation_id not in self._dirty:
                    return
        finally:
            self._running.pop(conversation_id, None)

    async def run_once(self, organisation_id: uuid.UUID, conversation_id: uuid.UUID) -> bool:
        """One summary update; True when the stored summary changed."""
        now = dt.datetime.now(dt.UTC)
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, organisation_id)
            covered = (
                await session.execute(
                    sa.select(Conversation.summary_message_count).where(
                        Conversation.organisation_id == organisation_id,
                        Conversation.id == conversation_id,
                    )
                )
            ).scalar_one()
            rows = (
                (
                    await session.execute(
                        sa.select(Message)
                        .where(
                            Message.organisation_id == organisation_id,
                            Message.conversation_id == conversation_id,
                        )
                        .order_by(Message.created_at, Message.id)
                        .offset(covered)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return False
            total = covered + len(rows)
            turn = await load_turn(
                session,
                organisation_id=organisation_id,
                conversation_id=conversation_id,
                new_messages=[],
                now=now,
                correlation_id="memory",
                trigger="memory",
            )
        messages = [
            TurnMessage(
                id=m.id,
                author=m.author,
                type=m.type,
                text=m.text,
                content=dict(m.content or {}),
                at=m.whatsapp_timestamp or m.created_at,
                wamid=m.wamid,
            )
            for m in rows[-self.max_messages :]
        ]
        update = await self.memory.summarise(turn, messages)
        MEMORY_TOKENS.inc(update.input_tokens)
        if update.output is None:
            MEMORY_RUNS.labels(outcome="kept").inc()
            return False
        output = update.output
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, organisation_id)
            written = await session.execute(
                sa.update(Conversation)
                .where(
                    Conversation.organisation_id == organisation_id,
                    Conversation.id == conversation_id,
                    Conversation.summary_message_count == covered,
                )
                .values(rolling_summary=output.rolling_summary, summary_message_count=total)
                .execution_options(synchronize_session=False)
            )
            if not getattr(written, "rowcount", 0):
                MEMORY_RUNS.labels(outcome="raced").inc()
                return False
            facts = {
                k: v
                for k, v in output.lead_facts.model_dump(mode="json").items()
                if v not in (None, [], "")
            }
            if facts:
                await session.execute(
                    sa.update(Lead)
                    .where(Lead.organisation_id == organisation_id, Lead.id == turn.lead.id)
                    .values(facts=Lead.facts.op("||")(sa.literal(facts, type_=JSONB)))
                    .execution_options(synchronize_session=False)
                )
        MEMORY_RUNS.labels(outcome="updated").inc()
        log.info(
            "memory.updated",
            extra={"conversation_id": str(conversation_id), "messages": len(messages)},
        )
        return True
