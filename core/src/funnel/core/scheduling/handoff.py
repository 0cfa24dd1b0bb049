"""Human takeover: handing a conversation to a person, keeping it there while the person is
active, and giving it back to the bot.

The original had a ``mode`` flag and nothing else: no auto-release, so a conversation a person
forgot stayed silent forever. Here every takeover carries ``auto_release_at``; an
``auto_release`` action wakes at that time and hands the conversation back if the person has been
idle for the organisation's ``auto_release_minutes``, or sleeps again until they have (a human
reply pushes the time back, see :func:`note_human_activity`).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.events.publisher import EventType, emit
from funnel.core.models import Conversation, Organisation
from funnel.core.models.enums import ConversationMode, ScheduledActionKind
from funnel.core.scheduling.actions import cancel_pending, schedule


async def auto_release_minutes(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    return int(
        (
            await session.execute(
                sa.select(Organisation.auto_release_minutes).where(
                    Organisation.id == organisation_id
                )
            )
        ).scalar_one()
    )


def idle_until(conversation: Conversation, minutes: int) -> dt.datetime | None:
    """When the person who has the conversation will have been idle long enough."""
    anchors = [t for t in (conversation.human_since, conversation.last_human_message_at) if t]
    if not anchors:
        return None
    return max(anchors) + dt.timedelta(minutes=minutes)


async def start_handoff(
    session: AsyncSession,
    conversation: Conversation,
    *,
    now: dt.datetime,
    minutes: int,
    reason: str | None,
    key: str,
) -> None:
    """Switch a locked conversation to human mode with attention raised, and schedule its
    auto-release. ``key`` makes the scheduled release idempotent (the turn's run id)."""
    if conversation.mode is not ConversationMode.HUMAN:
        conversation.mode = ConversationMode.HUMAN
        conversation.human_since = now
    if not conversation.needs_attention:
        conversation.needs_attention = True
        conversation.attention_raised_at = now
        conversation.attention_resolved_at = None
        conversation.attention_reason = (reason or "Handed off to a person")[:500]
    conversation.auto_release_at = now + dt.timedelta(minutes=minutes)
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
        idempotency_key=f"auto_release:{key}",
    )
    # The Action Center learns of it when this transaction commits (NOTIFY), ids only.
    await emit(
        session,
        conversation.organisation_id,
        EventType.ATTENTION_CHANGED,
        conversation_id=conversation.id,
        mode=ConversationMode.HUMAN.value,
    )


def note_human_activity(conversation: Conversation, *, now: dt.datetime, minutes: int) -> None:
    """A person wrote to the customer: the bot stays away for another ``minutes``. The pending
    auto-release action checks :func:`idle_until` when it wakes, so no row is rewritten here."""
    conversation.last_human_message_at = now
    if conversation.mode is ConversationMode.HUMAN:
        conversation.auto_release_at = now + dt.timedelta(minutes=minutes)


def release_to_bot(conversation: Conversation, *, now: dt.datetime) -> bool:
    """Hand a locked conversation back to the bot (manual release from the API, or the idle
    timer). Returns False when it was not in human mode. The attention flag is left for a person
    to resolve: releasing the bot does not mean the customer's issue was handled."""
    if conversation.mode is not ConversationMode.HUMAN:
        return False
    conversation.mode = ConversationMode.BOT
    conversation.human_since = None
    conversation.auto_release_at = None
    conversation.updated_at = now
    return True
