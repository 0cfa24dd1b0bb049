"""Scheduled actions in the worker: the loop that puts due actions on Kafka, and the handler
that carries them out when their event comes round.

The loop claims due rows across tenants (``FOR UPDATE SKIP LOCKED``: any number of workers can
run it), produces one ``scheduled`` event per row on the conversation's key and commits only
after Kafka acknowledged them, so a crash in between leaves the rows to be claimed again. On the
consuming side the event is handled by whichever worker owns that key, in order with the
customer's messages: a reply that arrived first cancels the nudge.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from funnel.core.contracts.events import InboundEvent
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.scheduling.actions import ClaimedAction, claim_due_actions
from funnel.core.scheduling.handlers import Outcome, complete_followup, prepare_action
from funnel.core.turns.contract import ConversationUpdate, TurnResult
from funnel.core.turns.service import TurnSuperseded, load_turn, persist_turn
from funnel.core.whatsapp.webhook import ContactRef, EventKind, conversation_key
from funnel.pipeline.worker.resources import Resources

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
SCHEDULED_FIELD = "scheduled"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Producer(Protocol):
    """The part of ``AIOKafkaProducer`` the loop uses: ``send`` queues a record and returns a
    future that resolves when the broker acknowledged it."""

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]: ...


def scheduled_event(action: ClaimedAction, *, now: dt.datetime) -> InboundEvent:
    """The Kafka event for a claimed action, keyed like the customer's own messages."""
    contact = ContactRef(wa_id=action.contact_wa_id, user_id=action.contact_user_id)
    return InboundEvent(
        kind=EventKind.SCHEDULED,
        key=conversation_key(str(action.organisation_id), action.phone_number_id, contact),
        event_id=f"scheduled:{action.id}",
        organisation_id=str(action.organisation_id),
        phone_number_id=action.phone_number_id,
        waba_id=action.waba_id,
        field=SCHEDULED_FIELD,
        whatsapp_timestamp=now,
        received_at=now,
        correlation_id=uuid.uuid4().hex,
        payload={
            "scheduled_action_id": str(action.id),
            "conversation_id": str(action.conversation_id),
            "kind": action.kind.value,
        },
    )


class Scheduler:
    """The loop: claim due actions, produce their events, commit."""

    def __init__(
        self,
        resources: Resources,
        producer: Producer,
        *,
        topic: str,
        poll_s: float = 1.0,
        batch: int = 100,
        clock: Clock = utcnow,
    ) -> None:
        self.res = resources
        self.producer = producer
        self.topic = topic
        self.poll_s = poll_s
        self.batch = batch
        self.clock = clock
        self.name = f"{socket.gethostname()}:{id(self):x}"
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                produced = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The rows stay pending (the transaction rolled back): try again next poll.
                log.exception("scheduler.tick_failed")
                produced = 0
            if produced < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_s)

    async def tick(self) -> int:
        """One sweep; returns how many actions were put on Kafka."""
        now = self.clock()
        async with self.res.sessions() as session, session.begin():
            claimed = await claim_due_actions(
                session, now=now, limit=self.batch, claimed_by=self.name
            )
            acknowledged = []
            for action in claimed:
                event = scheduled_event(action, now=now)
                acknowledged.append(
                    await self.producer.send(
                        self.topic,
                        value=event.encode(),
                        key=event.key_bytes(),
                        headers=event.headers(),
                    )
                )
            # One batch in flight, then wait for every acknowledgement before the commit: the
            # row locks are held for one round trip, not one per action.
            await asyncio.gather(*acknowledged)
        if claimed:
            log.info("scheduler.produced", extra={"actions": len(claimed)})
        return len(claimed)


TurnHook = Callable[[uuid.UUID, uuid.UUID], None]


class ScheduledActions:
    """Carries out ``scheduled`` events (called by the event handler, on the key's worker)."""

    def __init__(
        self,
        resources: Resources,
        *,
        clock: Clock = utcnow,
        on_turn: TurnHook | None = None,
        outbox_ready: asyncio.Event | None = None,
    ) -> None:
        self.res = resources
        self.clock = clock
        self.on_turn = on_turn
        self.outbox_ready = outbox_ready

    async def handle(self, event: InboundEvent) -> Outcome:
        organisation_id = uuid.UUID(event.organisation_id)
        action_id = uuid.UUID(str(event.payload["scheduled_action_id"]))
        now = self.clock()
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, organisation_id)
            prepared = await prepare_action(session, organisation_id, action_id, now)
        log.info(
            "scheduled.prepared",
            extra={
                "kind": prepared.kind.value if prepared.kind else event.payload.get("kind"),
                "outcome": prepared.outcome.value,
                "detail": prepared.detail,
            },
        )
        if prepared.outcome is Outcome.DONE and self.outbox_ready is not None:
            self.outbox_ready.set()
        if not prepared.run_turn or prepared.conversation_id is None:
            return prepared.outcome
        await self._followup_turn(
            organisation_id, prepared.conversation_id, action_id, now, hint=prepared.hint
        )
        return Outcome.DONE

    async def _followup_turn(
        self,
        organisation_id: uuid.UUID,
        conversation_id: uuid.UUID,
        action_id: uuid.UUID,
        now: dt.datetime,
        *,
        hint: str | None = None,
    ) -> None:
        started = utcnow()
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, organisation_id)
            turn = await load_turn(
                session,
                organisation_id=organisation_id,
                conversation_id=conversation_id,
                new_messages=[],
                now=now,
                correlation_id=f"scheduled:{action_id}",
                trigger="followup",
                followup_hint=hint,
            )
        t0 = time.perf_counter()
        try:
            result = await self.res.pipeline.run_turn(turn)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("scheduled.pipeline_crashed")
            result = TurnResult(
                provider="error",
                is_offline=False,
                error=f"{type(error).__name__}: {error}"[:2000],
                update=ConversationUpdate(),
            )
        try:
            async with self.res.sessions() as session, session.begin():
                await scope_to_organisation(session, organisation_id)
                persisted = await persist_turn(
                    session, turn, result, trigger_ids=[], started_at=started
                )
                await complete_followup(
                    session,
                    organisation_id,
                    action_id,
                    sent=bool(persisted.outbox_ids),
                    now=now,
                )
        except TurnSuperseded:
            return
        log.info(
            "scheduled.turn_done",
            extra={
                "conversation_id": str(conversation_id),
                "replies": len(persisted.outbox_ids),
                "pipeline_ms": round((time.perf_counter() - t0) * 1000, 1),
            },
        )
        if persisted.outbox_ids and self.outbox_ready is not None:
            self.outbox_ready.set()
        if self.on_turn is not None:
            self.on_turn(organisation_id, conversation_id)
