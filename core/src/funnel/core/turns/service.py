"""Loading a turn before the pipeline runs, and persisting its result after, each in one short
transaction, so no database connection is held while an LLM thinks."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.events.publisher import EventType, emit
from funnel.core.llm.pricing import estimate_cost
from funnel.core.models import (
    Conversation,
    Cta,
    Lead,
    Message,
    Organisation,
    PipelineRun,
    PipelineStep,
    ScheduledAction,
)
from funnel.core.models.enums import (
    ConversationMode,
    CtaState,
    MessageAuthor,
    OptOutSource,
    OutboxKind,
    PipelineRunStatus,
    PipelineStage,
)
from funnel.core.scheduling.followups import quiet_hours, start_sequence
from funnel.core.scheduling.handoff import start_handoff
from funnel.core.sending.planner import TemplateValues, plan_send
from funnel.core.sending.service import load_templates, queue_plan, window_open
from funnel.core.turns.contract import (
    ConversationSnapshot,
    CtaOption,
    LeadSnapshot,
    OrganisationProfile,
    Turn,
    TurnMessage,
    TurnResult,
)

HISTORY_LIMIT = 40


class TurnSuperseded(Exception):
    """Another worker already answered these messages (a rebalance overlap): drop this result."""


def _to_turn_message(m: Message) -> TurnMessage:
    return TurnMessage(
        id=m.id,
        author=m.author,
        type=m.type,
        text=m.text,
        content=dict(m.content or {}),
        at=m.whatsapp_timestamp or m.created_at,
        wamid=m.wamid,
    )


async def load_turn(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    conversation_id: uuid.UUID,
    new_messages: Sequence[Message],
    now: dt.datetime,
    correlation_id: str,
    trigger: str = "message",
    followup_hint: str | None = None,
) -> Turn:
    organisation = (
        await session.execute(sa.select(Organisation).where(Organisation.id == organisation_id))
    ).scalar_one()
    conversation = (
        await session.execute(
            sa.select(Conversation).where(
                Conversation.organisation_id == organisation_id, Conversation.id == conversation_id
            )
        )
    ).scalar_one()
    lead = (
        await session.execute(
            sa.select(Lead).where(
                Lead.organisation_id == organisation_id, Lead.id == conversation.lead_id
            )
        )
    ).scalar_one()
    new_ids = {m.id for m in new_messages}
    history_rows = (
        (
            await session.execute(
                sa.select(Message)
                .where(
                    Message.organisation_id == organisation_id,
                    Message.conversation_id == conversation_id,
                    Message.id.not_in(new_ids) if new_ids else sa.true(),
                )
                .order_by(Message.created_at.desc())
                .limit(HISTORY_LIMIT)
            )
        )
        .scalars()
        .all()
    )
    ctas = (
        (
            await session.execute(
                sa.select(Cta)
                .where(
                    Cta.organisation_id == organisation_id,
                    Cta.is_active.is_(True),
                    Cta.deleted_at.is_(None),
                )
                .order_by(Cta.created_at)
            )
        )
        .scalars()
        .all()
    )
    templates = await load_templates(session, organisation_id)
    return Turn(
        organisation=OrganisationProfile(
            id=organisation.id,
            name=organisation.name,
            business_name=organisation.business_name or organisation.name,
            business_description=organisation.business_description or "",
            persona_prompt=organisation.persona_prompt or "",
            flow_prompt=organisation.flow_prompt or "",
            timezone=organisation.timezone,
            default_language=organisation.default_language,
            reply_word_limit=organisation.reply_word_limit,
            allowed_link_domains=tuple(organisation.allowed_link_domains or ()),
            llm_models={str(k): str(v) for k, v in (organisation.llm_models or {}).items()},
            quiet_hours=dict(organisation.quiet_hours or {}),
            followup_policy=dict(organisation.followup_policy or {}),
            auto_release_minutes=organisation.auto_release_minutes,
            notify_customer_on_handoff=organisation.notify_customer_on_handoff,
        ),
        conversation=ConversationSnapshot(
            id=conversation.id,
            lead_id=conversation.lead_id,
            channel_id=conversation.channel_id,
            mode=conversation.mode,
            stage=conversation.stage,
            intent_level=conversation.intent_level,
            sentiment=conversation.sentiment,
            needs_attention=conversation.needs_attention,
            cta_id=conversation.cta_id,
            cta_state=conversation.cta_state,
            rolling_summary=conversation.rolling_summary or "",
            followups_sent_24h=conversation.followups_sent_24h,
            total_nudges=conversation.total_nudges,
            last_inbound_at=conversation.last_inbound_at,
            window_expires_at=conversation.window_expires_at,
        ),
        lead=LeadSnapshot(
            id=lead.id,
            wa_id=lead.wa_id,
            bsuid=lead.bsuid,
            name=lead.name,
            language=lead.language,
            opted_out=lead.opted_out,
            facts=dict(lead.facts or {}),
        ),
        new_messages=tuple(_to_turn_message(m) for m in new_messages),
        history=tuple(_to_turn_message(m) for m in reversed(history_rows)),
        ctas=tuple(
            CtaOption(id=c.id, type=c.type.value, name=c.name, url=c.url, button_text=c.button_text)
            for c in ctas
        ),
        now=now,
        correlation_id=correlation_id,
        trigger=trigger,
        templates=tuple(templates),
        followup_hint=followup_hint,
    )


@dataclass(frozen=True, slots=True)
class PersistedTurn:
    run_id: uuid.UUID
    outbox_ids: tuple[uuid.UUID, ...]
    suppressed_replies: int


def reply_key(trigger_ids: Sequence[uuid.UUID], index: int) -> str:
    """The outbox idempotency key of a turn's ``index``-th reply: derived from the messages it
    answers, so a retried turn for the same messages cannot queue a second reply."""
    digest = hashlib.sha256(",".join(sorted(str(i) for i in trigger_ids)).encode()).hexdigest()
    return f"reply:{digest[:40]}:{index}"


async def persist_turn(
    session: AsyncSession,
    turn: Turn,
    result: TurnResult,
    *,
    trigger_ids: Sequence[uuid.UUID],
    started_at: dt.datetime,
) -> PersistedTurn:
    org_id = turn.organisation.id
    # Both rows, locked, in one round trip.
    conversation, lead = (
        await session.execute(
            sa.select(Conversation, Lead)
            .join(Lead, Lead.id == Conversation.lead_id)
            .where(Conversation.organisation_id == org_id, Conversation.id == turn.conversation.id)
            .with_for_update()
        )
    ).one()
    now = dt.datetime.now(dt.UTC)
    run = PipelineRun(
        id=uuid.uuid4(),
        organisation_id=org_id,
        conversation_id=conversation.id,
        trigger_message_ids=list(trigger_ids),
        correlation_id=turn.correlation_id,
        provider=result.provider,
        is_offline=result.is_offline,
        status=PipelineRunStatus.FAILED
        if result.error
        else (PipelineRunStatus.SUCCEEDED if result.replies else PipelineRunStatus.SKIPPED),
        started_at=started_at,
        finished_at=now,
        latency_ms=int((now - started_at).total_seconds() * 1000),
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cost_usd=sum(
            (estimate_cost(s.model, s.input_tokens, s.output_tokens) for s in result.steps),
            Decimal(0),
        ),
        decision=dict(result.decision),
        error=result.error,
    )
    session.add(run)
    await session.flush()
    if trigger_ids:
        claimed = await session.execute(
            sa.update(Message)
            .where(
                Message.organisation_id == org_id,
                Message.id.in_(list(trigger_ids)),
                Message.pipeline_run_id.is_(None),
            )
            .values(pipeline_run_id=run.id)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != len(trigger_ids):
            raise TurnSuperseded(str(conversation.id))
    if result.steps:
        # One multi-row INSERT for the trace, not one per stage.
        await session.execute(
            sa.insert(PipelineStep),
            [
                {
                    "id": uuid.uuid4(),
                    "organisation_id": org_id,
                    "run_id": run.id,
                    "stage": PipelineStage(step.stage),
                    "attempt": step.attempt,
                    "model": step.model,
                    "prompt_version": step.prompt_version,
                    "latency_ms": int(step.latency_ms),
                    "input_tokens": step.input_tokens,
                    "output_tokens": step.output_tokens,
                    "output": step.output,
                    "error": step.error,
                    "overrides": {"rules": step.overrides} if step.overrides else {},
                }
                for step in result.steps
            ],
        )
    # Whether the bot may speak is decided on the row as it was before this turn's own update:
    # a human who took over while the LLM was thinking wins, but this turn's handoff notice
    # ("a person will follow up") still goes out.
    bot_may_speak = conversation.mode is ConversationMode.BOT
    attention_before = conversation.needs_attention
    _apply_update(conversation, lead, result, now)
    handing_off = result.update.mode is ConversationMode.HUMAN and bot_may_speak
    if conversation.needs_attention != attention_before and not handing_off:
        # start_handoff announces its own attention change; this is the turn raising the flag
        # without a handoff.
        await emit(session, org_id, EventType.ATTENTION_CHANGED, conversation_id=conversation.id)
    if handing_off:
        await start_handoff(
            session,
            conversation,
            now=now,
            minutes=turn.organisation.auto_release_minutes,
            reason=result.update.attention_reason,
            key=str(run.id),
        )

    outbox_ids: list[uuid.UUID] = []
    message_ids: list[uuid.UUID] = []
    suppressed = 0
    blocked: list[str] = []
    is_open = window_open(conversation, now)
    org = turn.organisation
    for index, reply in enumerate(result.replies):
        if not bot_may_speak or lead.opted_out:
            suppressed += 1
            continue
        # The send planner, on the locked row: the window may have closed (a 131047) or the
        # lead opted out since the turn was read.
        plan = plan_send(
            purpose=reply.purpose,
            window_open=is_open,
            opted_out=lead.opted_out,
            templates=turn.templates,
            message=reply.message if reply.kind is OutboxKind.MESSAGE else None,
            preview=reply.preview,
            message_type=reply.message_type,
            languages=(lead.language, org.default_language),
            values=TemplateValues(customer_name=lead.name, business_name=org.business_name),
        )
        if not plan.sendable:
            blocked.append(plan.detail)
        queued = await queue_plan(
            session,
            conversation=conversation,
            lead=lead,
            plan=plan,
            author=MessageAuthor.BOT,
            idempotency_key=reply_key(trigger_ids or [run.id], index),
            now=now,
            correlation_id=turn.correlation_id,
            pipeline_run_id=run.id,
        )
        if queued is not None:
            outbox_ids.append(queued.outbox_id)
            message_ids.append(queued.message_id)
    for item in result.scheduled:
        session.add(
            ScheduledAction(
                organisation_id=org_id,
                conversation_id=conversation.id,
                kind=item.kind,
                due_at=item.due_at,
                idempotency_key=f"{item.kind}:{run.id}",
                payload=dict(item.payload),
            )
        )
    if (
        outbox_ids
        and turn.trigger == "message"
        and conversation.mode is ConversationMode.BOT
        and not result.scheduled
    ):
        # The bot answered and now waits for the customer: the no-reply sequence starts. A
        # ``wait`` decision has its own resume time instead.
        await start_sequence(
            session,
            conversation,
            now=now,
            key=str(run.id),
            quiet=quiet_hours(org.quiet_hours),
            timezone=org.timezone,
            cta_offered=result.update.cta_state is CtaState.OFFERED,
        )
    if blocked:
        run.decision = {**run.decision, "blocked_replies": blocked}
    if suppressed:
        run.decision = {**run.decision, "suppressed_replies": suppressed}
    await session.flush()
    await _announce_turn(session, org_id, conversation.id, message_ids)
    return PersistedTurn(run_id=run.id, outbox_ids=tuple(outbox_ids), suppressed_replies=suppressed)


async def _announce_turn(
    session: AsyncSession,
    org_id: uuid.UUID,
    conversation_id: uuid.UUID,
    message_ids: Sequence[uuid.UUID],
) -> None:
    """Live-update hints, delivered when the worker commits the turn: the bot's queued replies,
    then the conversation (stage, intent, mode, trace) the turn changed."""
    if message_ids:
        await emit(
            session,
            org_id,
            EventType.MESSAGE_CREATED,
            conversation_id=conversation_id,
            message_ids=list(message_ids),
        )
    await emit(session, org_id, EventType.CONVERSATION_UPDATED, conversation_id=conversation_id)


def _apply_update(
    conversation: Conversation, lead: Lead, result: TurnResult, now: dt.datetime
) -> None:
    update = result.update
    if update.mode is not None and update.mode is not conversation.mode:
        conversation.mode = update.mode
        if update.mode is ConversationMode.HUMAN:
            conversation.human_since = now
        elif update.mode is ConversationMode.CLOSED:
            conversation.closed_at = now
    if update.stage is not None:
        conversation.stage = lead.stage = update.stage
    if update.intent_level is not None:
        conversation.intent_level = lead.intent_level = update.intent_level
    if update.sentiment is not None:
        conversation.sentiment = lead.sentiment = update.sentiment
    if update.needs_attention and not conversation.needs_attention:
        conversation.needs_attention = True
        conversation.attention_raised_at = now
        conversation.attention_resolved_at = None
        conversation.attention_reason = (update.attention_reason or "")[:500] or None
    if update.cta_id is not None and update.cta_id != conversation.cta_id:
        conversation.cta_id = update.cta_id
        conversation.cta_state = update.cta_state or CtaState.OFFERED
        conversation.cta_updated_at = now
    elif update.cta_state is not None and update.cta_state != conversation.cta_state:
        conversation.cta_state = update.cta_state
        conversation.cta_updated_at = now
    if update.opted_out and not lead.opted_out:
        lead.opted_out = True
        lead.opted_out_at = now
        lead.opt_out_source = OptOutSource.KEYWORD
