from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_fk
from funnel.core.models.enums import OutboxKind, OutboxStatus


class Outbox(IdMixin, TimestampMixin, TenantMixin, Base):
    """A Graph API request to make, written in the same transaction as the decision behind it.

    The sender delivers pending rows and records ``sent_wamid``; a crash between the decision
    and the send loses nothing, and ``idempotency_key`` (derived from the triggering event)
    keeps a redelivered event from queuing a second reply.
    """

    __tablename__ = "outbox"

    conversation_id: Mapped[uuid.UUID]
    channel_id: Mapped[uuid.UUID]
    message_id: Mapped[uuid.UUID | None]
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[OutboxKind] = mapped_column(enum_type(OutboxKind, "kind"))
    #: The Graph request body, ready to POST.
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "status"),
        default=OutboxStatus.PENDING,
        server_default=OutboxStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
    last_error_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_wamid: Mapped[str | None] = mapped_column(sa.String(255))
    sent_at: Mapped[dt.datetime | None]
    correlation_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: Creation order, total across transactions and within one (``created_at`` is the
    #: transaction's start): a conversation's rows are sent in this order.
    seq: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity())

    __table_args__ = (
        tenant_fk("conversation_id", "conversations"),
        tenant_fk("channel_id", "whatsapp_channels"),
        tenant_fk("message_id", "messages", ondelete="SET NULL"),
        sa.UniqueConstraint("organisation_id", "idempotency_key"),
        sa.UniqueConstraint("organisation_id", "message_id"),
        # The sender's sweep across tenants: only rows that still need sending are indexed.
        sa.Index(
            "ix_outbox_next_attempt_at_due",
            "next_attempt_at",
            postgresql_where=sa.text("status IN ('pending', 'failed')"),
        ),
        # Head of each conversation's queue: the sender claims only a conversation's first
        # unsent row, so replies never overtake one another.
        sa.Index(
            "ix_outbox_unsent_by_conversation",
            "organisation_id",
            "conversation_id",
            "seq",
            postgresql_where=sa.text("status IN ('pending', 'failed', 'sending')"),
        ),
        sa.Index(
            "ix_outbox_organisation_id_conversation_id_created_at",
            "organisation_id",
            "conversation_id",
            "created_at",
        ),
    )
