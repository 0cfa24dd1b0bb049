"""Writing, claiming and finishing scheduled actions.

The claim is a system-wide sweep (every tenant) served by the partial index on ``due_at`` where
``status = 'pending'``: ``FOR UPDATE SKIP LOCKED`` lets any number of scheduler loops run without
taking the same row. A claimed row becomes an event on the conversation's Kafka key, so it is
handled in order with the customer's own messages by whichever worker owns that key; the handler
finishes the row (``done``) or puts it back (``pending`` at a later time). A row left ``claimed``
by a scheduler that died before its event was produced is swept again after
:data:`CLAIM_LEASE`; the handler ignores an action that is no longer ``claimed``, so a repeat
event does nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import Conversation, Lead, ScheduledAction, WhatsAppChannel
from funnel.core.models.enums import ScheduledActionKind, ScheduledActionStatus

#: A claimed row whose event never reached Kafka is taken again after this long.
CLAIM_LEASE = dt.timedelta(minutes=5)
#: Attempts before a scheduled action that keeps failing is given up (``failed``).
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ClaimedAction:
    id: uuid.UUID
    organisation_id: uuid.UUID
    conversation_id: uuid.UUID
    kind: ScheduledActionKind
    due_at: dt.datetime
    payload: dict[str, Any]
    #: Where the event goes: the conversation's key needs the number and the contact's id.
    phone_number_id: str
    waba_id: str
    contact_wa_id: str | None
    contact_user_id: str | None


async def schedule(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    conversation_id: uuid.UUID,
    kind: ScheduledActionKind,
    due_at: dt.datetime,
    idempotency_key: str,
    payload: dict[str, Any] | None = None,
) -> uuid.UUID | None:
    """Insert a pending action; ``None`` when ``idempotency_key`` was already scheduled."""
    return (
        await session.execute(
            insert(ScheduledAction)
            .values(
                id=uuid.uuid4(),
                organisation_id=organisation_id,
                conversation_id=conversation_id,
                kind=kind,
                due_at=due_at,
                idempotency_key=idempotency_key[:255],
                payload=payload or {},
            )
            .on_conflict_do_nothing(
                index_elements=[ScheduledAction.organisation_id, ScheduledAction.idempotency_key]
            )
            .returning(ScheduledAction.id)
        )
    ).scalar_one_or_none()


async def cancel_pending(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    conversation_id: uuid.UUID,
    kinds: tuple[ScheduledActionKind, ...],
) -> int:
    result = await session.execute(
        sa.update(ScheduledAction)
        .where(
            ScheduledAction.organisation_id == organisation_id,
            ScheduledAction.conversation_id == conversation_id,
            ScheduledAction.kind.in_(kinds),
            ScheduledAction.status == ScheduledActionStatus.PENDING,
        )
        .values(status=ScheduledActionStatus.CANCELLED, completed_at=sa.func.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_due_actions(
    session: AsyncSession, *, now: dt.datetime, limit: int, claimed_by: str
) -> list[ClaimedAction]:
    """Claim up to ``limit`` due actions across all tenants. The caller produces their events and
    commits; if producing fails it rolls back and the rows stay pending."""
    due = sa.or_(
        sa.and_(
            ScheduledAction.status == ScheduledActionStatus.PENDING,
            ScheduledAction.due_at <= now,
        ),
        sa.and_(
            ScheduledAction.status == ScheduledActionStatus.CLAIMED,
            ScheduledAction.claimed_at <= now - CLAIM_LEASE,
        ),
    )
    rows = (
        (
            await session.execute(
                sa.select(ScheduledAction)
                .where(due)
                .order_by(ScheduledAction.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        return []
    conversation_ids = {r.conversation_id for r in rows}
    targets = {
        row.id: row
        for row in (
            await session.execute(
                sa.select(
                    Conversation.id,
                    WhatsAppChannel.phone_number_id,
                    WhatsAppChannel.waba_id,
                    Lead.wa_id,
                    Lead.bsuid,
                )
                .join(
                    WhatsAppChannel,
                    sa.and_(
                        WhatsAppChannel.organisation_id == Conversation.organisation_id,
                        WhatsAppChannel.id == Conversation.channel_id,
                    ),
                )
                .join(
                    Lead,
                    sa.and_(
                        Lead.organisation_id == Conversation.organisation_id,
                        Lead.id == Conversation.lead_id,
                    ),
                )
                .where(Conversation.id.in_(conversation_ids))
            )
        ).all()
    }
    claimed: list[ClaimedAction] = []
    for row in rows:
        target = targets.get(row.conversation_id)
        row.attempts += 1
        if target is None or not (target.wa_id or target.bsuid) or row.attempts > MAX_ATTEMPTS:
            row.status = ScheduledActionStatus.FAILED
            row.completed_at = now
            row.last_error = "no conversation to deliver to" if target else "gave up"
            continue
        row.status = ScheduledActionStatus.CLAIMED
        row.claimed_at = now
        row.claimed_by = claimed_by[:255]
        claimed.append(
            ClaimedAction(
                id=row.id,
                organisation_id=row.organisation_id,
                conversation_id=row.conversation_id,
                kind=row.kind,
                due_at=row.due_at,
                payload=dict(row.payload or {}),
                phone_number_id=target.phone_number_id,
                waba_id=target.waba_id or "",
                contact_wa_id=target.wa_id,
                contact_user_id=target.bsuid,
            )
        )
    await session.flush()
    return claimed


async def take_claimed(
    session: AsyncSession, organisation_id: uuid.UUID, action_id: uuid.UUID
) -> ScheduledAction | None:
    """The action, locked, if it is still waiting for its handler (else ``None``: a repeated
    event, or the action was cancelled meanwhile)."""
    row = (
        await session.execute(
            sa.select(ScheduledAction)
            .where(
                ScheduledAction.organisation_id == organisation_id,
                ScheduledAction.id == action_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.status is not ScheduledActionStatus.CLAIMED:
        return None
    return row


def finish(row: ScheduledAction, now: dt.datetime, outcome: str) -> None:
    row.status = ScheduledActionStatus.DONE
    row.completed_at = now
    row.payload = {**(row.payload or {}), "outcome": outcome[:200]}


def postpone(row: ScheduledAction, due_at: dt.datetime, why: str) -> None:
    """Put the action back for later (quiet hours, the daily cap): the same row, so its
    idempotency key keeps protecting it."""
    row.status = ScheduledActionStatus.PENDING
    row.due_at = due_at
    # Waiting out quiet hours is not a failed attempt.
    row.attempts = max(0, row.attempts - 1)
    row.claimed_at = None
    row.claimed_by = None
    row.payload = {**(row.payload or {}), "postponed": why[:200]}
