"""What each scheduled action does when its event comes round on the conversation's key.

Handling is split in two because a follow-up inside the window is written by the pipeline (an
LLM call, which must not hold a transaction open):

1. :func:`prepare_action` (one transaction) checks the action is still wanted, and either
   finishes it (released, template queued, stopped), postpones it (quiet hours, the daily cap),
   or answers :attr:`Prepared.run_turn`: the caller runs a follow-up turn through the pipeline;
2. the caller persists that turn and, in the same transaction, :func:`complete_followup` books
   the nudge and schedules the sequence's next step.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.events.publisher import EventType, emit
from funnel.core.htl.policy import next_allowed_time
from funnel.core.inbound.service import TURN_TYPES
from funnel.core.models import (
    Conversation,
    Lead,
    Message,
    Organisation,
    PipelineRun,
    ScheduledAction,
    Template,
)
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    MessageAuthor,
    MessageDirection,
    ScheduledActionKind,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.scheduling.actions import finish, postpone, schedule, take_claimed
from funnel.core.scheduling.followups import (
    FollowupPolicy,
    Step,
    allowed_at,
    quiet_hours,
    schedule_step,
    sent_in_last_day,
    sequence_step,
)
from funnel.core.scheduling.handoff import idle_until, release_to_bot
from funnel.core.sending.planner import TemplateCandidate, plan_send, purpose_for_action
from funnel.core.sending.service import (
    load_templates,
    queue_plan,
    to_candidate,
    values_for,
    window_open,
)

_TERMINAL = frozenset({ConversationStage.CLOSED, ConversationStage.LOST, ConversationStage.GHOSTED})
_PROACTIVE = frozenset({ScheduledActionKind.FOLLOWUP, ScheduledActionKind.WAIT_RESUME})


class Outcome(enum.StrEnum):
    SKIPPED = "skipped"
    POSTPONED = "postponed"
    DONE = "done"
    RUN_TURN = "run_turn"


@dataclass(frozen=True, slots=True)
class Prepared:
    outcome: Outcome
    detail: str = ""
    kind: ScheduledActionKind | None = None
    conversation_id: uuid.UUID | None = None
    due_at: dt.datetime | None = None
    #: For :attr:`run_turn`: what the nudge should be about (the step's ``message_hint``, or
    #: the plan Brain gave when it chose to wait), passed to the pipeline.
    hint: str | None = None

    @property
    def run_turn(self) -> bool:
        return self.outcome is Outcome.RUN_TURN


async def _locked(
    session: AsyncSession, organisation_id: uuid.UUID, conversation_id: uuid.UUID
) -> tuple[Conversation, Lead, Organisation]:
    conversation = (
        await session.execute(
            sa.select(Conversation)
            .where(
                Conversation.organisation_id == organisation_id,
                Conversation.id == conversation_id,
            )
            .with_for_update()
        )
    ).scalar_one()
    lead = (
        await session.execute(
            sa.select(Lead).where(
                Lead.organisation_id == organisation_id, Lead.id == conversation.lead_id
            )
        )
    ).scalar_one()
    organisation = (
        await session.execute(sa.select(Organisation).where(Organisation.id == organisation_id))
    ).scalar_one()
    return conversation, lead, organisation


async def _has_unanswered(session: AsyncSession, conversation: Conversation) -> bool:
    return bool(
        (
            await session.execute(
                sa.select(sa.literal(1))
                .where(
                    Message.organisation_id == conversation.organisation_id,
                    Message.conversation_id == conversation.id,
                    Message.direction == MessageDirection.INBOUND,
                    Message.pipeline_run_id.is_(None),
                    # A reaction never gets a turn, so it must not hold a follow-up back.
                    Message.type.in_(TURN_TYPES),
                )
                .limit(1)
            )
        ).scalar()
    )


async def prepare_action(
    session: AsyncSession, organisation_id: uuid.UUID, action_id: uuid.UUID, now: dt.datetime
) -> Prepared:
    row = await take_claimed(session, organisation_id, action_id)
    if row is None:
        return Prepared(Outcome.SKIPPED, "not claimed (repeated event or cancelled)")
    conversation, lead, organisation = await _locked(session, organisation_id, row.conversation_id)
    prepared = await _prepare(session, row, conversation, lead, organisation, now)
    if prepared.outcome is Outcome.POSTPONED:
        assert prepared.due_at is not None
        postpone(row, prepared.due_at, prepared.detail)
    elif prepared.outcome is not Outcome.RUN_TURN:
        finish(row, now, prepared.detail)
        if row.kind is ScheduledActionKind.FOLLOWUP and prepared.outcome is Outcome.DONE:
            await _next_step(session, row, conversation, organisation, now)
        if row.kind is ScheduledActionKind.AUTO_RELEASE and prepared.outcome is Outcome.DONE:
            await emit(
                session,
                organisation_id,
                EventType.CONVERSATION_UPDATED,
                conversation_id=conversation.id,
                mode=conversation.mode.value,
            )
    return Prepared(
        prepared.outcome,
        prepared.detail,
        kind=row.kind,
        conversation_id=row.conversation_id,
        due_at=prepared.due_at,
        hint=prepared.hint,
    )


async def _prepare(
    session: AsyncSession,
    row: ScheduledAction,
    conversation: Conversation,
    lead: Lead,
    organisation: Organisation,
    now: dt.datetime,
) -> Prepared:
    if row.kind is ScheduledActionKind.AUTO_RELEASE:
        return _auto_release(conversation, organisation, now)
    if row.kind is ScheduledActionKind.TEMPLATE_FALLBACK:
        return await _template_fallback(session, row, conversation, lead, organisation, now)
    if row.kind not in _PROACTIVE:
        return Prepared(Outcome.SKIPPED, f"no handler for {row.kind.value}")

    # Follow-ups and wait resumes: stopped by anything that means "do not nudge now".
    if lead.opted_out:
        return Prepared(Outcome.SKIPPED, "lead opted out")
    if conversation.mode is not ConversationMode.BOT:
        return Prepared(Outcome.SKIPPED, f"conversation in {conversation.mode.value} mode")
    if conversation.stage in _TERMINAL:
        return Prepared(Outcome.SKIPPED, f"stage {conversation.stage.value}")
    if conversation.last_inbound_at is not None and conversation.last_inbound_at > row.created_at:
        return Prepared(Outcome.SKIPPED, "customer replied")
    if await _has_unanswered(session, conversation):
        return Prepared(Outcome.SKIPPED, "customer messages are waiting for a turn")
    quiet = quiet_hours(organisation.quiet_hours)
    if row.kind is ScheduledActionKind.FOLLOWUP:
        policy = FollowupPolicy.from_json(organisation.followup_policy)
        if conversation.total_nudges >= policy.max_total:
            return Prepared(Outcome.SKIPPED, "follow-up total reached")
        when = allowed_at(conversation, now, policy, quiet, organisation.timezone)
    else:
        # The customer asked for this moment ("message me tomorrow"): only quiet hours apply.
        when = next_allowed_time(now, quiet, organisation.timezone)
    if when > now:
        return Prepared(Outcome.POSTPONED, "quiet hours or follow-up cap", due_at=when)
    if window_open(conversation, now):
        return Prepared(
            Outcome.RUN_TURN,
            "window open: the pipeline writes the nudge",
            hint=await _hint_of(session, row),
        )
    # Window closed: only an approved template may go.
    templates: list[TemplateCandidate] = []
    step_template = (row.payload or {}).get("template_id")
    if row.kind is ScheduledActionKind.FOLLOWUP:
        step = await _step_of(session, row)
        step_template = str(step.template_id) if step and step.template_id else None
    if step_template:
        template = (
            await session.execute(
                sa.select(Template).where(
                    Template.organisation_id == row.organisation_id,
                    Template.id == uuid.UUID(step_template),
                    Template.status == TemplateStatus.APPROVED,
                )
            )
        ).scalar_one_or_none()
        if template is not None:
            candidate = to_candidate(template)
            templates = [
                TemplateCandidate(
                    id=candidate.id,
                    name=candidate.name,
                    language=candidate.language,
                    status=candidate.status,
                    purpose=TemplatePurpose.FOLLOWUP,
                    components=candidate.components,
                    parameter_format=candidate.parameter_format,
                )
            ]
    if not templates:
        templates = await load_templates(session, row.organisation_id)
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=lead.opted_out,
        templates=templates,
        languages=(lead.language, organisation.default_language),
        values=values_for(lead, organisation.business_name or organisation.name),
    )
    if not plan.sendable:
        # A nudge is optional: a silent lead without a follow-up template is not something a
        # person must act on, so no attention flag (unlike a reply the customer is waiting for).
        return Prepared(Outcome.DONE, f"not sent: {plan.detail}")
    await queue_plan(
        session,
        conversation=conversation,
        lead=lead,
        plan=plan,
        author=MessageAuthor.BOT,
        idempotency_key=f"scheduled:{row.id}",
        now=now,
    )
    book_nudge(conversation, now)
    return Prepared(Outcome.DONE, "template sent")


def _auto_release(
    conversation: Conversation, organisation: Organisation, now: dt.datetime
) -> Prepared:
    if conversation.mode is not ConversationMode.HUMAN:
        return Prepared(Outcome.SKIPPED, "not in human mode")
    idle = idle_until(conversation, organisation.auto_release_minutes)
    if idle is not None and idle > now:
        # The person wrote since the takeover: sleep until they have been idle long enough.
        return Prepared(Outcome.POSTPONED, "the person is still active", due_at=idle)
    release_to_bot(conversation, now=now)
    return Prepared(Outcome.DONE, "released to the bot")


async def _template_fallback(
    session: AsyncSession,
    row: ScheduledAction,
    conversation: Conversation,
    lead: Lead,
    organisation: Organisation,
    now: dt.datetime,
) -> Prepared:
    if lead.opted_out:
        return Prepared(Outcome.SKIPPED, "lead opted out")
    if window_open(conversation, now):
        # The customer wrote again after the failure: their message gets a normal turn.
        return Prepared(Outcome.SKIPPED, "window reopened")
    purpose = TemplatePurpose((row.payload or {}).get("purpose", TemplatePurpose.REENGAGEMENT))
    plan = plan_send(
        purpose=purpose,
        window_open=False,
        opted_out=lead.opted_out,
        templates=await load_templates(session, row.organisation_id),
        languages=(lead.language, organisation.default_language),
        values=values_for(lead, organisation.business_name or organisation.name),
    )
    # A message the customer was meant to get did not arrive: if no template can carry it, a
    # person must know (queue_plan raises the attention flag with the reason).
    queued = await queue_plan(
        session,
        conversation=conversation,
        lead=lead,
        plan=plan,
        author=MessageAuthor.BOT,
        idempotency_key=f"template_fallback:{row.id}",
        now=now,
    )
    if queued is None and plan.sendable:
        return Prepared(Outcome.SKIPPED, "already queued")
    return Prepared(Outcome.DONE, "template queued" if plan.sendable else plan.detail)


async def _hint_of(session: AsyncSession, row: ScheduledAction) -> str | None:
    if row.kind is ScheduledActionKind.FOLLOWUP:
        step = await _step_of(session, row)
        return step.message_hint if step is not None else None
    reason = (row.payload or {}).get("reason")
    return reason if isinstance(reason, str) else None


async def _step_of(session: AsyncSession, row: ScheduledAction) -> Step | None:
    payload = row.payload or {}
    sequence_id = payload.get("sequence_id")
    position = payload.get("position")
    if not sequence_id or not isinstance(position, int):
        return None
    return await sequence_step(
        session, row.organisation_id, position, sequence_id=uuid.UUID(str(sequence_id))
    )


async def _next_step(
    session: AsyncSession,
    row: ScheduledAction,
    conversation: Conversation,
    organisation: Organisation,
    now: dt.datetime,
) -> None:
    """The sequence moves on whether or not this step sent anything (the original's count only
    moved on a send, so a model that chose silence stopped the sequence for good)."""
    payload = row.payload or {}
    sequence_id = payload.get("sequence_id")
    position = payload.get("position")
    if not sequence_id or not isinstance(position, int):
        return
    step = await sequence_step(
        session, row.organisation_id, position + 1, sequence_id=uuid.UUID(str(sequence_id))
    )
    if step is None:
        return
    await schedule_step(
        session,
        conversation,
        step,
        after=now,
        key=str(payload.get("origin") or row.idempotency_key),
        quiet=quiet_hours(organisation.quiet_hours),
        timezone=organisation.timezone,
    )


def book_nudge(conversation: Conversation, now: dt.datetime) -> None:
    """Count a follow-up that went out, over a rolling 24 h (not reset only by an inbound)."""
    conversation.followups_sent_24h = sent_in_last_day(conversation, now) + 1
    conversation.total_nudges += 1
    conversation.last_followup_at = now


async def complete_followup(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    action_id: uuid.UUID,
    *,
    sent: bool,
    now: dt.datetime,
) -> None:
    """After the follow-up turn is persisted (same transaction): book the nudge if one was
    queued, finish the action, schedule the next step."""
    row = await take_claimed(session, organisation_id, action_id)
    if row is None:
        return
    conversation, _, organisation = await _locked(session, organisation_id, row.conversation_id)
    if sent and row.kind is ScheduledActionKind.FOLLOWUP:
        book_nudge(conversation, now)
    finish(row, now, "turn sent a message" if sent else "turn sent nothing")
    if row.kind is ScheduledActionKind.FOLLOWUP:
        await _next_step(session, row, conversation, organisation, now)


async def schedule_template_fallback(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID | None,
    *,
    now: dt.datetime,
) -> uuid.UUID | None:
    """A send failed with 131047 (window closed): queue the template path on the conversation's
    key, once per failed message, with the purpose that fits what the message was for."""
    purpose = await undelivered_purpose(session, organisation_id, message_id)
    return await schedule(
        session,
        organisation_id=organisation_id,
        conversation_id=conversation_id,
        kind=ScheduledActionKind.TEMPLATE_FALLBACK,
        due_at=now,
        idempotency_key=f"template_fallback:{message_id or conversation_id}",
        payload={
            "message_id": str(message_id) if message_id else None,
            "purpose": purpose.value,
        },
    )


async def undelivered_purpose(
    session: AsyncSession, organisation_id: uuid.UUID, message_id: uuid.UUID | None
) -> TemplatePurpose:
    """The template purpose standing in for an undelivered message: the bot's by the turn's
    action (a CTA offer → cta, a handoff notice → handoff, a follow-up turn's nudge → followup);
    a person's message, or one whose turn is unknown → reengagement."""
    if message_id is None:
        return TemplatePurpose.REENGAGEMENT
    found = (
        await session.execute(
            sa.select(PipelineRun.decision, PipelineRun.trigger_message_ids)
            .join(
                Message,
                sa.and_(
                    Message.organisation_id == PipelineRun.organisation_id,
                    Message.pipeline_run_id == PipelineRun.id,
                ),
            )
            .where(
                Message.organisation_id == organisation_id,
                Message.id == message_id,
                Message.author == MessageAuthor.BOT,
            )
        )
    ).one_or_none()
    if found is None:
        return TemplatePurpose.REENGAGEMENT
    decision: dict[str, object] = found.decision or {}
    trigger_message_ids = found.trigger_message_ids
    action = decision.get("action")
    # A follow-up turn answers no customer message.
    return purpose_for_action(
        action if isinstance(action, str) else None, followup=not trigger_message_ids
    )
