"""Follow-up sequences: when the next nudge is due, and whether it may go now.

The original polled fixed buckets (10 min / 3 h / 6 h after the lead's last message, ±2 min at
a 60 s beat), so a stalled beat skipped a nudge for good, the counter moved only when a message
was actually sent, the per-organisation table was unused, quiet hours did not exist and the
"24 h" counter was reset only by an inbound message. Here:

* a bot reply to the customer schedules step 1 of the organisation's active ``no_reply``
  sequence (``cta_pending`` when the reply offered a CTA and such a sequence exists) as a row
  with a due time (nothing is lost if the scheduler was down: due rows wait); an operator can
  start a ``manual`` sequence on a conversation (:func:`start_manual_sequence`);
* each step, when handled, schedules the next one whether or not a message went out, so the
  sequence always moves on;
* a customer reply cancels the pending steps (in ingest), an opt-out or a takeover stops them;
* the daily cap is counted over a rolling 24 h from ``last_followup_at``, not reset by chance;
* a step due in quiet hours, or over the cap, is postponed to the first allowed moment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.htl.policy import next_allowed_time
from funnel.core.htl.schemas import QuietHours
from funnel.core.models import Conversation, FollowupSequence, FollowupStep
from funnel.core.models.enums import FollowupTrigger, ScheduledActionKind
from funnel.core.scheduling.actions import schedule

DEFAULT_MAX_PER_24H = 2
DEFAULT_MAX_TOTAL = 4
DEFAULT_MIN_GAP_MINUTES = 60
DAY = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class FollowupPolicy:
    max_per_24h: int = DEFAULT_MAX_PER_24H
    max_total: int = DEFAULT_MAX_TOTAL
    min_gap_minutes: int = DEFAULT_MIN_GAP_MINUTES

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> FollowupPolicy:
        raw = raw or {}

        def number(key: str, default: int) -> int:
            value = raw.get(key, default)
            return value if isinstance(value, int) and value >= 0 else default

        return cls(
            max_per_24h=number("max_per_24h", DEFAULT_MAX_PER_24H),
            max_total=number("max_total", DEFAULT_MAX_TOTAL),
            min_gap_minutes=number("min_gap_minutes", DEFAULT_MIN_GAP_MINUTES),
        )


def quiet_hours(raw: dict[str, Any] | None) -> QuietHours | None:
    if not raw or not raw.get("start") or not raw.get("end"):
        return None
    try:
        return QuietHours.model_validate(raw)
    except ValueError:
        return None


def sent_in_last_day(conversation: Conversation, now: dt.datetime) -> int:
    """Follow-ups sent in the rolling 24 h: the stored counter, unless the last one is older."""
    last = conversation.last_followup_at
    if last is None or now - last >= DAY:
        return 0
    return conversation.followups_sent_24h


def allowed_at(
    conversation: Conversation,
    now: dt.datetime,
    policy: FollowupPolicy,
    quiet: QuietHours | None,
    timezone: str,
) -> dt.datetime:
    """The first moment at or after ``now`` a follow-up may go: after the minimum gap, under the
    daily cap (when the oldest counted one leaves the 24 h), and outside quiet hours."""
    when = now
    last = conversation.last_followup_at
    if last is not None:
        when = max(when, last + dt.timedelta(minutes=policy.min_gap_minutes))
        if sent_in_last_day(conversation, now) >= policy.max_per_24h:
            when = max(when, last + DAY)
    return next_allowed_time(when, quiet, timezone)


@dataclass(frozen=True, slots=True)
class Step:
    sequence_id: uuid.UUID
    position: int
    delay_minutes: int
    message_hint: str | None
    template_id: uuid.UUID | None


async def sequence_step(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    position: int,
    sequence_id: uuid.UUID | None = None,
    *,
    trigger: FollowupTrigger = FollowupTrigger.NO_REPLY,
) -> Step | None:
    """Step ``position`` of ``sequence_id`` (or of the organisation's active sequence for
    ``trigger``, the oldest if there are several)."""
    query = (
        sa.select(FollowupStep)
        .join(
            FollowupSequence,
            sa.and_(
                FollowupSequence.organisation_id == FollowupStep.organisation_id,
                FollowupSequence.id == FollowupStep.sequence_id,
            ),
        )
        .where(
            FollowupStep.organisation_id == organisation_id,
            FollowupStep.position == position,
            FollowupSequence.is_active.is_(True),
        )
    )
    if sequence_id is not None:
        query = query.where(FollowupSequence.id == sequence_id)
    else:
        query = query.where(FollowupSequence.trigger == trigger)
    row = (
        (await session.execute(query.order_by(FollowupSequence.created_at).limit(1)))
        .scalars()
        .first()
    )
    if row is None:
        return None
    return Step(
        sequence_id=row.sequence_id,
        position=row.position,
        delay_minutes=row.delay_minutes,
        message_hint=row.message_hint,
        template_id=row.template_id,
    )


async def schedule_step(
    session: AsyncSession,
    conversation: Conversation,
    step: Step,
    *,
    after: dt.datetime,
    key: str,
    quiet: QuietHours | None,
    timezone: str,
) -> uuid.UUID | None:
    due = next_allowed_time(after + dt.timedelta(minutes=step.delay_minutes), quiet, timezone)
    return await schedule(
        session,
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        kind=ScheduledActionKind.FOLLOWUP,
        due_at=due,
        idempotency_key=f"followup:{key}:{step.position}",
        payload={"sequence_id": str(step.sequence_id), "position": step.position, "origin": key},
    )


async def start_sequence(
    session: AsyncSession,
    conversation: Conversation,
    *,
    now: dt.datetime,
    key: str,
    quiet: QuietHours | None,
    timezone: str,
    cta_offered: bool = False,
) -> uuid.UUID | None:
    """After the bot answered the customer: step 1 of the sequence that fits, if one exists.

    A reply that offered a CTA starts the ``cta_pending`` sequence (its nudges are about the
    offer), or the ``no_reply`` one when the organisation has none; any other reply starts the
    ``no_reply`` sequence. The customer's next message cancels either (in ingest).
    """
    step = None
    if cta_offered:
        step = await sequence_step(
            session, conversation.organisation_id, 1, trigger=FollowupTrigger.CTA_PENDING
        )
    if step is None:
        step = await sequence_step(session, conversation.organisation_id, 1)
    if step is None:
        return None
    return await schedule_step(
        session, conversation, step, after=now, key=key, quiet=quiet, timezone=timezone
    )
