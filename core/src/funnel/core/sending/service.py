"""The send planner against the database: load what :func:`plan_send` needs, queue the plan.

Callers:

* the worker's ``persist_turn`` (bot replies, in the turn's transaction);
* the scheduled-action handlers (follow-ups, the template fallback after a 131047);
* the API, for a person's message: :func:`send_human_message`.

Every path ends in :func:`queue_plan`, which queues only a sendable plan and raises the
conversation's attention flag when the plan says a person must step in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.events.publisher import EventType, emit
from funnel.core.models import Conversation, Lead, Organisation, Template
from funnel.core.models.enums import (
    MessageAuthor,
    MessageType,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.outbox.service import NewSend, QueuedSend, enqueue_send
from funnel.core.scheduling.handoff import note_human_activity
from funnel.core.sending.planner import (
    SendPlan,
    TemplateCandidate,
    TemplateValues,
    plan_send,
)


def window_open(conversation: Conversation, now: dt.datetime) -> bool:
    """The 24-hour window, from the customer's own timestamps (closed early by a 131047)."""
    return conversation.window_expires_at is not None and now < conversation.window_expires_at


def raise_attention(conversation: Conversation, reason: str, now: dt.datetime) -> None:
    if conversation.needs_attention:
        return
    conversation.needs_attention = True
    conversation.attention_raised_at = now
    conversation.attention_resolved_at = None
    conversation.attention_reason = reason[:500]


async def load_templates(
    session: AsyncSession, organisation_id: uuid.UUID
) -> list[TemplateCandidate]:
    """The organisation's approved templates that have a purpose: the only ones the planner may
    use (one indexed query on ``(organisation_id, purpose, status)``)."""
    rows = (
        (
            await session.execute(
                sa.select(Template)
                .where(
                    Template.organisation_id == organisation_id,
                    Template.status == TemplateStatus.APPROVED,
                    Template.purpose.is_not(None),
                )
                .order_by(Template.name, Template.language)
            )
        )
        .scalars()
        .all()
    )
    return [to_candidate(t) for t in rows]


def to_candidate(template: Template) -> TemplateCandidate:
    return TemplateCandidate(
        id=template.id,
        name=template.name,
        language=template.language,
        status=template.status,
        purpose=template.purpose,
        components=tuple(c for c in (template.components or []) if isinstance(c, Mapping)),
        parameter_format=template.parameter_format,
    )


def values_for(lead: Lead, business_name: str | None) -> TemplateValues:
    return TemplateValues(customer_name=lead.name, business_name=business_name)


async def queue_plan(
    session: AsyncSession,
    *,
    conversation: Conversation,
    lead: Lead,
    plan: SendPlan,
    author: MessageAuthor,
    idempotency_key: str,
    now: dt.datetime,
    correlation_id: str | None = None,
    pipeline_run_id: uuid.UUID | None = None,
    author_user_id: uuid.UUID | None = None,
) -> QueuedSend | None:
    """Queue a sendable plan into the outbox (``None`` if blocked or already queued). A blocked
    plan that needs a person raises the conversation's attention flag with the reason."""
    if not plan.sendable:
        if plan.needs_attention and not conversation.needs_attention:
            raise_attention(conversation, plan.detail, now)
            await emit(
                session,
                conversation.organisation_id,
                EventType.ATTENTION_CHANGED,
                conversation_id=conversation.id,
            )
        return None
    assert plan.message is not None
    assert plan.kind is not None
    return await enqueue_send(
        session,
        conversation=conversation,
        lead=lead,
        send=NewSend(
            kind=plan.kind,
            message=plan.message,
            preview=plan.preview,
            message_type=plan.message_type or MessageType.TEXT,
            author=author,
            idempotency_key=idempotency_key,
            author_user_id=author_user_id,
        ),
        correlation_id=correlation_id,
        pipeline_run_id=pipeline_run_id,
    )


@dataclass(frozen=True, slots=True)
class HumanSend:
    plan: SendPlan
    outbox_id: uuid.UUID | None


async def send_human_message(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    conversation_id: uuid.UUID,
    user_id: uuid.UUID,
    message: Mapping[str, Any],
    preview: str,
    idempotency_key: str,
    message_type: MessageType = MessageType.TEXT,
    fallback_purpose: TemplatePurpose | None = TemplatePurpose.REENGAGEMENT,
    correlation_id: str | None = None,
    now: dt.datetime | None = None,
) -> HumanSend:
    """A person's message to the customer, through the same gate as the bot's.

    ``message`` is the Graph message part (``{"type": "text", "text": {"body": …}}``). Inside
    the window it is queued as it is; outside, the approved ``fallback_purpose`` template is
    queued instead (pass ``None`` to refuse rather than substitute); an opted-out lead gets
    nothing. The returned plan tells the API what happened (``plan.verdict``, ``plan.detail``)
    so it can say so to the agent. A sent message also pushes the conversation's auto-release
    back: the person is active. Runs in the caller's transaction, which must be scoped to the
    organisation.
    """
    now = now or dt.datetime.now(dt.UTC)
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
    templates: Sequence[TemplateCandidate] = (
        await load_templates(session, organisation_id) if fallback_purpose else ()
    )
    plan = plan_send(
        purpose=fallback_purpose,
        window_open=window_open(conversation, now),
        opted_out=lead.opted_out,
        templates=templates,
        message=message,
        preview=preview,
        message_type=message_type,
        languages=(lead.language, organisation.default_language),
        values=values_for(lead, organisation.business_name or organisation.name),
    )
    queued = await queue_plan(
        session,
        conversation=conversation,
        lead=lead,
        plan=plan,
        author=MessageAuthor.HUMAN,
        idempotency_key=idempotency_key,
        now=now,
        correlation_id=correlation_id,
        author_user_id=user_id,
    )
    if queued is not None:
        note_human_activity(conversation, now=now, minutes=organisation.auto_release_minutes)
    return HumanSend(plan=plan, outbox_id=queued.outbox_id if queued else None)
