from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_fk
from funnel.core.models.enums import ScheduledActionKind, ScheduledActionStatus


class ScheduledAction(IdMixin, TimestampMixin, TenantMixin, Base):
    """Something to do for a conversation later: a follow-up, resuming after a wait, handing a
    human takeover back to the bot.

    The scheduler claims due rows across all tenants with ``SELECT … WHERE status = 'pending' AND
    due_at <= now() ORDER BY due_at FOR UPDATE SKIP LOCKED`` (served by the partial index below)
    and turns each into an event on the conversation's Kafka key, so it is ordered with the
    customer's own messages. ``idempotency_key`` stops a redelivered decision from scheduling
    the same thing twice.
    """

    __tablename__ = "scheduled_actions"

    conversation_id: Mapped[uuid.UUID]
    kind: Mapped[ScheduledActionKind] = mapped_column(enum_type(ScheduledActionKind, "kind"))
    due_at: Mapped[dt.datetime]
    status: Mapped[ScheduledActionStatus] = mapped_column(
        enum_type(ScheduledActionStatus, "status"),
        default=ScheduledActionStatus.PENDING,
        server_default=ScheduledActionStatus.PENDING.value,
    )
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    payload: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    claimed_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(sa.String(255))
    completed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        tenant_fk("conversation_id", "conversations"),
        sa.UniqueConstraint("organisation_id", "idempotency_key"),
        # A system-wide sweep index, the one kind allowed not to start with organisation_id.
        sa.Index(
            "ix_scheduled_actions_due_at_pending",
            "due_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
        # "Cancel this conversation's pending follow-ups" when the lead writes back.
        sa.Index(
            "ix_scheduled_actions_organisation_id_conversation_id_status",
            "organisation_id",
            "conversation_id",
            "status",
        ),
    )
