"""Conversation operations the API (REST and GraphQL) calls.

Each operator action (takeover, release, assign, close, resolve attention, start follow-ups)
has exactly one function here, which both transports call, and each emits
``conversation.updated`` (plus ``attention.changed`` when the attention flag moved) in the same
transaction. The original had separate REST and WebSocket code paths that drifted apart.
Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.conversations.repository import (
    ConversationRepository,
    MessageRepository,
    ReadMarkerRepository,
)
from funnel.core.conversations.schemas import (
    ConversationDetail,
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    MessageRead,
    PipelineStepRead,
    PipelineTrace,
)
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.errors import Conflict, NotFound, ValidationFailed
from funnel.core.events.publisher import EventType, emit
from funnel.core.leads.pagination import Cursor
from funnel.core.leads.schemas import LeadRead
from funnel.core.models import (
    Conversation,
    FollowupSequence,
    Lead,
    Membership,
    Organisation,
    PipelineRun,
    PipelineStep,
    User,
)
from funnel.core.models.enums import ConversationMode, ConversationStage, ScheduledActionKind
from funnel.core.scheduling.actions import cancel_pending, schedule
from funnel.core.scheduling.followups import quiet_hours, schedule_step, sequence_step
from funnel.core.scheduling.handoff import release_to_bot

PAGE_MAX = 200


def conversations(session: AsyncSession) -> ConversationRepository:
    return ConversationRepository(session, current_organisation_id(session))


async def _conversation(
    session: AsyncSession, conversation_id: uuid.UUID, *, lock: bool = False
) -> Conversation:
    repository = conversations(session)
    statement = repository.get_base_statement().where(Conversation.id == conversation_id)
    if lock:
        # The worker locks the same row for a turn: an action and a turn never interleave.
        statement = statement.with_for_update()
    conversation = await repository.get_one_or_none(statement)
    if conversation is None:
        raise NotFound("conversation not found")
    return conversation


# ---------------------------------------------------------------- reading


async def list_conversations(
    session: AsyncSession, filters: ConversationFilters, *, cursor: str | None, limit: int = 50
) -> ConversationPage:
    limit = max(1, min(limit, PAGE_MAX))
    after = Cursor.decode(cursor) if cursor else None
    rows = list(
        (await session.execute(conversations(session).page(filters, after, limit))).scalars()
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = Cursor(rows[-1].last_message_at, rows[-1].id).encode()
    return ConversationPage(
        items=[ConversationRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


# ---------------------------------------------------------------- read markers


def read_markers(session: AsyncSession) -> ReadMarkerRepository:
    return ReadMarkerRepository(session, current_organisation_id(session))


async def mark_read(
    session: AsyncSession, user_id: uuid.UUID, conversation_id: uuid.UUID
) -> ConversationRead:
    """The user has read the conversation: its customer messages so far stop counting as unread
    for them (for them only: every operator has their own marker)."""
    conversation = await _conversation(session, conversation_id)
    await read_markers(session).mark(user_id, conversation_id)
    return ConversationRead.model_validate(conversation)


async def unread_counts(
    session: AsyncSession, user_id: uuid.UUID, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Per conversation, the customer's messages the user has not read (0 when none)."""
    found = await read_markers(session).unread_counts(user_id, conversation_ids)
    return {c: found.get(c, 0) for c in conversation_ids}


async def traces(session: AsyncSession, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, PipelineTrace]:
    """The pipeline runs (with their steps, in order) behind the given bot messages: two
    queries for a whole page of messages."""
    if not run_ids:
        return {}
    organisation_id = current_organisation_id(session)
    runs = (
        await session.execute(
            sa.select(PipelineRun).where(
                PipelineRun.organisation_id == organisation_id, PipelineRun.id.in_(run_ids)
            )
        )
    ).scalars()
    steps: dict[uuid.UUID, list[PipelineStepRead]] = defaultdict(list)
    for step in (
        await session.execute(
            sa.select(PipelineStep)
            .where(
                PipelineStep.organisation_id == organisation_id, PipelineStep.run_id.in_(run_ids)
            )
            .order_by(PipelineStep.started_at, PipelineStep.attempt)
        )
    ).scalars():
        steps[step.run_id].append(PipelineStepRead.model_validate(step))
    return {
        run.id: PipelineTrace(
            id=run.id,
            status=run.status,
            provider=run.provider,
            latency_ms=run.latency_ms,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            decision=run.decision,
            error=run.error,
            steps=steps.get(run.id, []),
        )
        for run in runs
    }


async def message_page(
    session: AsyncSession, conversation_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[MessageRead], str | None]:
    limit = max(1, min(limit, PAGE_MAX))
    after = Cursor.decode(cursor) if cursor else None
    repository = MessageRepository(session, current_organisation_id(session))
    rows = list((await session.execute(repository.page(conversation_id, after, limit))).scalars())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode()
    by_run = await traces(session, [m.pipeline_run_id for m in rows if m.pipeline_run_id])
    messages = []
    for row in rows:
        message = MessageRead.model_validate(row)
        if row.pipeline_run_id is not None:
            message.trace = by_run.get(row.pipeline_run_id)
        messages.append(message)
    return messages, next_cursor


async def get_conversation(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    messages_cursor: str | None = None,
    messages_limit: int = 50,
) -> ConversationDetail:
    conversation = await _conversation(session, conversation_id)
    lead = (
        await session.execute(
            sa.select(Lead).where(
                Lead.organisation_id == conversation.organisation_id,
                Lead.id == conversation.lead_id,
            )
        )
    ).scalar_one()
    messages, next_cursor = await message_page(
        session, conversation.id, cursor=messages_cursor, limit=messages_limit
    )
    return ConversationDetail(
        conversation=ConversationRead.model_validate(conversation),
        lead=LeadRead.model_validate(lead),
        messages=messages,
        messages_next_cursor=next_cursor,
    )


# ---------------------------------------------------------------- operator actions


async def _changed(
    session: AsyncSession,
    actor: Actor,
    conversation: Conversation,
    action: str,
    *,
    attention_changed: bool = False,
    changes: dict[str, object] | None = None,
) -> ConversationRead:
    await session.flush()
    await session.refresh(conversation)
    organisation_id = conversation.organisation_id
    await emit(
        session,
        organisation_id,
        EventType.CONVERSATION_UPDATED,
        conversation_id=conversation.id,
        mode=conversation.mode.value,
    )
    if attention_changed:
        await emit(
            session, organisation_id, EventType.ATTENTION_CHANGED, conversation_id=conversation.id
        )
    await record(
        session,
        actor,
        action,
        entity_type="conversation",
        entity_id=conversation.id,
        changes=changes or {},
    )
    return ConversationRead.model_validate(conversation)


def _resolve(conversation: Conversation, now: dt.datetime) -> bool:
    if not conversation.needs_attention:
        return False
    conversation.needs_attention = False
    conversation.attention_resolved_at = now
    return True


async def takeover(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID, user_id: uuid.UUID | None
) -> ConversationRead:
    """A person takes the conversation: the bot stops answering, pending follow-ups are
    cancelled, the auto-release is scheduled, and the attention flag (the reason a person was
    needed) is resolved."""
    conversation = await _conversation(session, conversation_id, lock=True)
    if conversation.mode is ConversationMode.CLOSED:
        raise Conflict("the conversation is closed")
    now = dt.datetime.now(dt.UTC)
    minutes = (
        await session.execute(
            sa.select(Organisation.auto_release_minutes).where(
                Organisation.id == conversation.organisation_id
            )
        )
    ).scalar_one()
    conversation.mode = ConversationMode.HUMAN
    conversation.human_since = now
    conversation.auto_release_at = now + dt.timedelta(minutes=minutes)
    if user_id is not None:
        conversation.assigned_user_id = user_id
    attention = _resolve(conversation, now)
    await cancel_pending(
        session,
        conversation.organisation_id,
        conversation.id,
        (ScheduledActionKind.FOLLOWUP, ScheduledActionKind.WAIT_RESUME),
    )
    await schedule(
        session,
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        kind=ScheduledActionKind.AUTO_RELEASE,
        due_at=conversation.auto_release_at,
        idempotency_key=f"auto_release:takeover:{conversation.id}:{now.isoformat()}",
    )
    return await _changed(
        session, actor, conversation, "conversation.takeover", attention_changed=attention
    )


async def release(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID
) -> ConversationRead:
    conversation = await _conversation(session, conversation_id, lock=True)
    if not release_to_bot(conversation, now=dt.datetime.now(dt.UTC)):
        raise Conflict("the conversation is not in human mode")
    return await _changed(session, actor, conversation, "conversation.release")


async def assign(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID, user_id: uuid.UUID | None
) -> ConversationRead:
    conversation = await _conversation(session, conversation_id, lock=True)
    if user_id is not None:
        member = (
            await session.execute(
                # Deactivation deletes the membership (and, for a last one, disables the user).
                sa.select(Membership.id)
                .join(User, User.id == Membership.user_id)
                .where(
                    Membership.organisation_id == conversation.organisation_id,
                    Membership.user_id == user_id,
                    User.is_active.is_(True),
                )
            )
        ).scalar_one_or_none()
        if member is None:
            raise ValidationFailed(
                "the assignee is not an active member of this organisation",
                details={"field": "user_id"},
            )
    before = conversation.assigned_user_id
    conversation.assigned_user_id = user_id
    return await _changed(
        session,
        actor,
        conversation,
        "conversation.assigned",
        changes={"assigned_user_id": {"from": before, "to": user_id}},
    )


async def close(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID
) -> ConversationRead:
    """Close the thread: the bot and follow-ups stop; the lead's next message opens a new one."""
    conversation = await _conversation(session, conversation_id, lock=True)
    if conversation.mode is ConversationMode.CLOSED:
        raise Conflict("the conversation is already closed")
    now = dt.datetime.now(dt.UTC)
    conversation.mode = ConversationMode.CLOSED
    conversation.closed_at = now
    conversation.human_since = None
    conversation.auto_release_at = None
    attention = _resolve(conversation, now)
    await cancel_pending(
        session,
        conversation.organisation_id,
        conversation.id,
        tuple(ScheduledActionKind),
    )
    return await _changed(
        session, actor, conversation, "conversation.closed", attention_changed=attention
    )


async def resolve_attention(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID
) -> ConversationRead:
    conversation = await _conversation(session, conversation_id, lock=True)
    if not _resolve(conversation, dt.datetime.now(dt.UTC)):
        raise Conflict("the conversation does not need attention")
    return await _changed(
        session, actor, conversation, "conversation.attention_resolved", attention_changed=True
    )


#: Stages in which nothing is nudged (the follow-up handler skips them too).
_NO_FOLLOWUP_STAGES = frozenset(
    {ConversationStage.CLOSED, ConversationStage.LOST, ConversationStage.GHOSTED}
)


async def start_followups(
    session: AsyncSession, actor: Actor, conversation_id: uuid.UUID, sequence_id: uuid.UUID
) -> ConversationRead:
    """Start a follow-up sequence on this conversation now (an operator's choice).

    Meant for ``manual`` sequences (never started on their own), but any active sequence of the
    organisation may be chosen. It replaces the follow-ups already pending on the conversation,
    and runs under the same rules as any other: the customer's next message, a takeover or an
    opt-out stop it; quiet hours and the follow-up policy's caps apply to every step. Refused,
    with the reason, when a step could never go out (opted out, not in bot mode, a closed stage).
    """
    conversation = await _conversation(session, conversation_id, lock=True)
    organisation_id = conversation.organisation_id
    if conversation.mode is not ConversationMode.BOT:
        raise Conflict(
            f"the conversation is in {conversation.mode.value} mode: follow-ups only go out "
            "while the bot has it"
        )
    if conversation.stage in _NO_FOLLOWUP_STAGES:
        raise Conflict(f"no follow-ups in stage {conversation.stage.value}")
    opted_out = (
        await session.execute(
            sa.select(Lead.opted_out).where(
                Lead.organisation_id == organisation_id, Lead.id == conversation.lead_id
            )
        )
    ).scalar_one()
    if opted_out:
        raise Conflict("the lead opted out of messages")
    sequence = (
        await session.execute(
            sa.select(FollowupSequence).where(
                FollowupSequence.organisation_id == organisation_id,
                FollowupSequence.id == sequence_id,
            )
        )
    ).scalar_one_or_none()
    if sequence is None:
        raise NotFound("follow-up sequence not found")
    if not sequence.is_active:
        raise Conflict("the follow-up sequence is paused")
    step = await sequence_step(session, organisation_id, 1, sequence_id)
    if step is None:
        raise ValidationFailed("the follow-up sequence has no steps")
    organisation = (
        await session.execute(sa.select(Organisation).where(Organisation.id == organisation_id))
    ).scalar_one()
    now = dt.datetime.now(dt.UTC)
    await cancel_pending(session, organisation_id, conversation.id, (ScheduledActionKind.FOLLOWUP,))
    await schedule_step(
        session,
        conversation,
        step,
        after=now,
        key=f"manual:{uuid.uuid4()}",
        quiet=quiet_hours(organisation.quiet_hours),
        timezone=organisation.timezone,
    )
    return await _changed(
        session,
        actor,
        conversation,
        "conversation.followups_started",
        changes={"sequence_id": str(sequence.id), "sequence": sequence.name},
    )
