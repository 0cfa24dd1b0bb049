"""Handling one conversation key's batch of events: statuses, messages, the turn.

The dispatcher hands over a key's pending events sorted by WhatsApp timestamp; a debounced burst
arrives here as one batch. Order of work for a batch:

1. statuses and messages are stored in one transaction (idempotent, see
   :mod:`funnel.core.inbound.service`), then committed;
2. if the conversation has inbound messages no turn has answered, a turn runs: context is read,
   the pipeline decides (no transaction open while the LLM works), and the decision, the trace
   and the replies (into the outbox) are committed together. A worker that dies anywhere in
   between leaves the messages unanswered in the database, and the redelivered events find them.

Failures are sorted by the middleware around the handler: infrastructure trouble (database or
network down) is retried until it clears; anything else is retried a few times and then sent to
the dead-letter topic with its error, so one poison event cannot stop its partition.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.contracts.events import (
    HEADER_CORRELATION_ID,
    HEADER_KIND,
    InboundEvent,
)
from funnel.core.contracts.sqs import ContractError
from funnel.core.contracts.topics import dead_letter_topic
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.inbound.channels import ChannelRef, UnknownChannel
from funnel.core.inbound.service import (
    IngestedMessage,
    ingest_messages,
    record_status,
    unanswered_messages,
)
from funnel.core.llm.pricing import estimate_cost
from funnel.core.models import MediaObject, Message
from funnel.core.models.enums import ConversationMode
from funnel.core.scheduling.handlers import schedule_template_fallback
from funnel.core.telemetry import bind_context, correlation_id
from funnel.core.templates.service import apply_template_status_update
from funnel.core.turns.contract import ConversationUpdate, Turn, TurnResult
from funnel.core.turns.service import TurnSuperseded, load_turn, persist_turn
from funnel.core.whatsapp.errors import GraphError
from funnel.core.whatsapp.webhook import EventKind, WebhookParseError
from funnel.pipeline.consumer.dispatch import Record
from funnel.pipeline.worker import metrics
from funnel.pipeline.worker.memory import MemoryRunner
from funnel.pipeline.worker.resources import Resources
from funnel.pipeline.worker.scheduler import ScheduledActions

log = logging.getLogger(__name__)

TEMPLATE_STATUS_FIELD = "message_template_status_update"

Handler = Callable[[list[Record]], Awaitable[None]]


class PermanentEventError(Exception):
    """An event that can never be handled as it is: dead-letter it at once."""


#: Errors that say the infrastructure, not the event, is at fault: retried until they clear.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT_ERRORS)


def debounce_for(settings_debounce_s: float) -> Callable[[Record], float]:
    """Only customer messages wait for the burst to end; statuses and changes go at once."""

    def debounce(record: Record) -> float:
        kind = record.header(HEADER_KIND)
        return settings_debounce_s if kind == EventKind.MESSAGE.value.encode() else 0.0

    return debounce


def lane_for(record: Record) -> str:
    """Delivery statuses queue beside their conversation, not behind its turns (see
    :class:`~funnel.pipeline.consumer.dispatch.KeyedDispatcher`)."""
    if record.header(HEADER_KIND) == EventKind.STATUS.value.encode():
        return f"{record.key}#statuses"
    return record.key


def with_retries_and_dead_letters(resources: Resources, handler: Handler) -> Handler:
    """Consumer middleware: retries with backoff, then the dead-letter topic."""
    max_attempts = resources.settings.worker.max_event_attempts
    base_s = resources.settings.worker.event_retry_base_s

    async def wrapped(records: list[Record]) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await handler(records)
                return
            except PermanentEventError as error:
                await dead_letter(resources, records, error, reason="permanent")
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if _is_transient(error):
                    metrics.EVENT_RETRIES.labels(reason="infrastructure").inc()
                    log.warning(
                        "worker.infrastructure_retry",
                        extra={"attempt": attempt, "error": type(error).__name__},
                    )
                    await asyncio.sleep(min(base_s * 2 ** min(attempt, 6), 30.0))
                    continue
                if attempt >= max_attempts:
                    log.exception("worker.poison_event", extra={"attempts": attempt})
                    await dead_letter(resources, records, error, reason="exhausted")
                    return
                metrics.EVENT_RETRIES.labels(reason="error").inc()
                log.warning(
                    "worker.event_retry",
                    extra={"attempt": attempt, "error": type(error).__name__},
                    exc_info=True,
                )
                await asyncio.sleep(base_s * 2 ** (attempt - 1))

    return wrapped


async def dead_letter(
    resources: Resources, records: list[Record], error: BaseException, *, reason: str
) -> None:
    """Send records to ``<topic>.dlq`` with the error in headers. If even that fails, raise:
    the dispatcher then keeps the batch, which is better than losing it."""
    producer = resources.dead_letters
    if producer is None:
        raise RuntimeError("no dead-letter producer configured") from error
    detail = f"{type(error).__name__}: {error}"[:1000].encode()
    for record in records:
        headers = [
            *record.headers,
            ("funnel-dlq-reason", reason.encode()),
            ("funnel-dlq-error", detail),
            ("funnel-dlq-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await producer.send_and_wait(
            dead_letter_topic(record.topic),
            value=record.value,
            key=record.key.encode(),
            headers=headers,
        )
        kind = (record.header(HEADER_KIND) or b"unknown").decode()
        metrics.EVENTS.labels(kind=kind, outcome="dead_lettered").inc()
    metrics.DEAD_LETTERS.labels(reason=reason).inc(len(records))
    log.warning("worker.dead_lettered", extra={"events": len(records), "reason": reason})


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A turn's context, read and committed, waiting for its decision."""

    turn: Turn
    #: When the turn started (wall clock, recorded on its run) and its perf_counter origin.
    started: dt.datetime
    t0: float
    load_s: float


class EventHandler:
    """The stream handler: one key's batch of records."""

    def __init__(self, resources: Resources) -> None:
        self.res = resources
        #: Set whenever a turn queued sends, so the sender does not wait for its next poll.
        self.outbox_ready = asyncio.Event()
        #: Carries out ``scheduled`` events; set by the app (None: such events dead-letter).
        self.scheduled: ScheduledActions | None = None
        #: Summarises conversations after their turns; None when the pipeline has no Memory.
        self.memory: MemoryRunner | None = None

    async def __call__(self, records: list[Record]) -> None:
        events: list[InboundEvent] = []
        for record in records:
            try:
                events.append(InboundEvent.decode(record.value))
            except ContractError as error:
                # One undecodable record must not hold back the rest of the key's batch.
                await dead_letter(self.res, [record], error, reason="undecodable")
        if not events:
            return
        correlation = events[-1].correlation_id or (
            (records[-1].header(HEADER_CORRELATION_ID) or b"").decode() or None
        )
        # Scheduled actions come after the customer's events of the same batch: a reply that
        # arrived first must be stored before a nudge decides whether it is still wanted.
        scheduled = [e for e in events if e.kind is EventKind.SCHEDULED]
        events = [e for e in events if e.kind is not EventKind.SCHEDULED]
        with bind_context(correlation, key_partition=records[0].partition):
            if events:
                await self._handle(events)
            for event in scheduled:
                await self._scheduled(event)

    async def _scheduled(self, event: InboundEvent) -> None:
        if self.scheduled is None:
            raise PermanentEventError("this worker does not handle scheduled actions")
        outcome = await self.scheduled.handle(event)
        metrics.EVENTS.labels(kind="scheduled", outcome=outcome.value).inc()

    def turn_committed(self, organisation_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        """A turn's decision is committed: Memory may run (in the background)."""
        if self.memory is not None:
            self.memory.schedule(organisation_id, conversation_id)

    async def _handle(self, events: list[InboundEvent]) -> None:
        phone_number_id = next((e.phone_number_id for e in events if e.phone_number_id), None)
        if phone_number_id is None:
            # WABA-level changes (no phone number): template status updates are applied to the
            # organisation's templates; anything else is acknowledged.
            for event in events:
                await self._apply_change(event)
            return
        try:
            channel = await self.res.channels.by_phone_number_id(phone_number_id)
        except UnknownChannel as error:
            raise PermanentEventError(str(error)) from error
        try:
            parsed = [(e, e.webhook_event()) for e in events]
        except (ContractError, WebhookParseError) as error:
            raise PermanentEventError(str(error)) from error

        messages = [w for e, w in parsed if e.kind is EventKind.MESSAGE]
        statuses = [w for e, w in parsed if e.kind is EventKind.STATUS]
        for e, _ in parsed:
            if e.kind is EventKind.CHANGE:
                log.info("worker.change_received", extra={"field": e.field})
                metrics.EVENTS.labels(kind="change", outcome="ok").inc()

        conversation_id = None
        new: list[IngestedMessage] = []
        loaded: _Loaded | None = None
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, channel.organisation_id)
            for status in statuses:
                outcome = await record_status(session, channel.organisation_id, status)
                if outcome.window_closed and outcome.message_id is not None:
                    await self._window_closed(session, channel, outcome.message_id)
                label = (
                    "duplicate"
                    if outcome.duplicate
                    else ("applied" if outcome.applied else "stored")
                )
                metrics.STATUSES.labels(
                    status=status.status.status if status.status else "?", outcome=label
                ).inc()
                metrics.EVENTS.labels(
                    kind="status", outcome="duplicate" if outcome.duplicate else "ok"
                ).inc()
            if messages:
                result = await ingest_messages(session, channel, messages)
                conversation_id = result.conversation_id
                new = result.new
                metrics.EVENTS.labels(kind="message", outcome="ok").inc(len(result.new))
                metrics.EVENTS.labels(kind="message", outcome="duplicate").inc(result.duplicates)
                log.info(
                    "message.ingested",
                    extra={
                        "organisation_id": str(channel.organisation_id),
                        "conversation_id": str(conversation_id),
                        "new": len(result.new),
                        "duplicates": result.duplicates,
                    },
                )
                # The turn's context is read in the same transaction (one round trip of BEGIN,
                # scope and COMMIT fewer per turn), unless media must be fetched first: the
                # turn then starts after the download, in a transaction of its own.
                if not self._media_to_download(new):
                    loaded = await self._load(session, channel, conversation_id)
        if conversation_id is None:
            return
        if loaded is not None:
            await self._complete_turn(channel, loaded)
            return
        media = self._media_to_download(new)
        if media:
            await self._download_media(channel, media)
        await self.run_turn(channel, conversation_id)

    def _media_to_download(self, new: list[IngestedMessage]) -> list[IngestedMessage]:
        if not self.res.settings.worker.download_media:
            return []
        return [m for m in new if m.whatsapp_media_id]

    async def _apply_change(self, event: InboundEvent) -> None:
        if event.field != TEMPLATE_STATUS_FIELD:
            log.info("worker.change_ignored", extra={"field": event.field})
            metrics.EVENTS.labels(kind=event.kind.value, outcome="ignored").inc()
            return
        try:
            organisation_id = uuid.UUID(event.organisation_id)
            value = event.webhook_event().raw
        except (ValueError, ContractError, WebhookParseError) as error:
            raise PermanentEventError(str(error)) from error
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, organisation_id)
            applied = await apply_template_status_update(session, organisation_id, value)
        metrics.EVENTS.labels(kind="change", outcome="ok" if applied else "ignored").inc()
        log.info("template.status_webhook", extra={"applied": applied})

    async def run_turn(self, channel: ChannelRef, conversation_id: uuid.UUID) -> None:
        """Answer the conversation's unanswered messages, if any (a turn of its own)."""
        async with self.res.sessions() as session, session.begin():
            await scope_to_organisation(session, channel.organisation_id)
            loaded = await self._load(session, channel, conversation_id)
        if loaded is not None:
            await self._complete_turn(channel, loaded)

    async def _load(
        self, session: AsyncSession, channel: ChannelRef, conversation_id: uuid.UUID
    ) -> _Loaded | None:
        """The turn's context, in the caller's scoped transaction; None: nothing to answer."""
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        pending = await unanswered_messages(session, channel.organisation_id, conversation_id)
        if not pending:
            return None
        turn = await load_turn(
            session,
            organisation_id=channel.organisation_id,
            conversation_id=conversation_id,
            new_messages=pending,
            now=started,
            correlation_id=correlation_id() or "",
        )
        return _Loaded(turn, started, t0, time.perf_counter() - t0)

    async def _complete_turn(self, channel: ChannelRef, loaded: _Loaded) -> None:
        """Decide (the pipeline, outside any transaction), then persist the decision."""
        turn, started, t0, load_s = loaded.turn, loaded.started, loaded.t0, loaded.load_s
        conversation_id = turn.conversation.id

        if turn.conversation.mode is ConversationMode.BOT and not turn.lead.opted_out:
            latest = next((m.wamid for m in reversed(turn.new_messages) if m.wamid), None)
            if latest:
                asyncio.create_task(self._mark_read(channel, latest))  # noqa: RUF006 - best effort
            p0 = time.perf_counter()
            result = await self._decide(turn)
            pipeline_s = time.perf_counter() - p0
        else:
            # The bot stays silent while a human has the conversation or the lead opted out;
            # the messages are still marked as seen by a turn so they are not answered later.
            reason = (
                "human_mode" if turn.conversation.mode is not ConversationMode.BOT else "opted_out"
            )
            result = TurnResult(provider="none", is_offline=False, decision={"skipped": reason})
            pipeline_s = 0.0

        s0 = time.perf_counter()
        try:
            async with self.res.sessions() as session, session.begin():
                await scope_to_organisation(session, channel.organisation_id)
                persisted = await persist_turn(
                    session,
                    turn,
                    result,
                    trigger_ids=[m.id for m in turn.new_messages],
                    started_at=started,
                )
        except TurnSuperseded:
            metrics.TURNS.labels(outcome="superseded").inc()
            log.info("turn.superseded", extra={"conversation_id": str(conversation_id)})
            return
        persist_s = time.perf_counter() - s0
        metrics.TURN_OVERHEAD_SECONDS.observe(load_s + persist_s)
        metrics.TURN_SECONDS.observe(time.perf_counter() - t0)
        outcome = (
            "failed"
            if result.error
            else "skipped"
            if result.decision.get("skipped")
            else "replied"
            if persisted.outbox_ids
            else "silent"
        )
        metrics.TURNS.labels(outcome=outcome).inc()
        _observe_turn(result)
        log.info(
            "turn.done",
            extra={
                "conversation_id": str(conversation_id),
                "outcome": outcome,
                "replies": len(persisted.outbox_ids),
                "pipeline_ms": round(pipeline_s * 1000, 1),
                "overhead_ms": round((load_s + persist_s) * 1000, 2),
                "provider": result.provider,
            },
        )
        if persisted.outbox_ids:
            self.outbox_ready.set()
        self.turn_committed(channel.organisation_id, conversation_id)

    async def _window_closed(
        self, session: AsyncSession, channel: ChannelRef, message_id: uuid.UUID
    ) -> None:
        """A failed status 131047: queue the template path for the undelivered message."""
        conversation_id = (
            await session.execute(
                sa.select(Message.conversation_id).where(
                    Message.organisation_id == channel.organisation_id, Message.id == message_id
                )
            )
        ).scalar_one_or_none()
        if conversation_id is not None:
            await schedule_template_fallback(
                session,
                channel.organisation_id,
                conversation_id,
                message_id,
                now=dt.datetime.now(dt.UTC),
            )

    async def _decide(self, turn: Turn) -> TurnResult:
        try:
            return await self.res.pipeline.run_turn(turn)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # The pipeline is meant to turn its own failures into decisions. If it still
            # raises, the customer must not be ignored silently: flag the conversation for a
            # person, record the error, send nothing (never a canned apology).
            log.exception("turn.pipeline_crashed")
            return TurnResult(
                provider="error",
                is_offline=False,
                error=f"{type(error).__name__}: {error}"[:2000],
                update=ConversationUpdate(
                    needs_attention=True, attention_reason="The assistant failed on this turn."
                ),
            )

    async def _mark_read(self, channel: ChannelRef, wamid: str) -> None:
        try:
            client = await self.res.graph(channel)
            await client.mark_read(wamid, typing_indicator="text")
        except (GraphError, OSError, sa_exc.SQLAlchemyError):
            log.info("turn.mark_read_failed", exc_info=True)

    async def _download_media(self, channel: ChannelRef, items: list[IngestedMessage]) -> None:
        for item in items:
            assert item.whatsapp_media_id is not None
            try:
                client = await self.res.graph(channel)
                media = await client.download_media(item.whatsapp_media_id)
            except (GraphError, OSError) as error:
                metrics.MEDIA_DOWNLOADS.labels(outcome="failed").inc()
                log.warning(
                    "media.download_failed",
                    extra={"message_id": str(item.id), "error": type(error).__name__},
                )
                continue
            async with self.res.sessions() as session, session.begin():
                await scope_to_organisation(session, channel.organisation_id)
                media_row = MediaObject(
                    organisation_id=channel.organisation_id,
                    whatsapp_media_id=item.whatsapp_media_id,
                    mime_type=media.mime_type,
                    sha256=media.sha256,
                    size_bytes=len(media.content),
                    content=media.content,
                    downloaded_at=dt.datetime.now(dt.UTC),
                )
                session.add(media_row)
                await session.flush()
                await session.execute(
                    sa.update(Message)
                    .where(
                        Message.organisation_id == channel.organisation_id, Message.id == item.id
                    )
                    .values(media_id=media_row.id)
                )
            metrics.MEDIA_DOWNLOADS.labels(outcome="stored").inc()


def _observe_turn(result: TurnResult) -> None:
    """The pipeline's own figures for the dashboards: per-stage latency, tokens, cost,
    decisions and handoffs."""
    for step in result.steps:
        if step.stage in ("policy", "rag"):
            continue
        metrics.STAGE_SECONDS.labels(stage=step.stage).observe(step.latency_ms / 1000)
        metrics.TOKENS.labels(stage=step.stage, direction="input").inc(step.input_tokens)
        metrics.TOKENS.labels(stage=step.stage, direction="output").inc(step.output_tokens)
        cost = estimate_cost(step.model, step.input_tokens, step.output_tokens)
        if cost:
            metrics.COST_USD.labels(stage=step.stage).inc(float(cost))
    action = result.decision.get("action")
    if isinstance(action, str):
        metrics.DECISIONS.labels(action=action).inc()
    if result.update.mode is ConversationMode.HUMAN:
        metrics.HANDOFFS.inc()
