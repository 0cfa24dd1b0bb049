from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_fk


class WebhookReceipt(IdMixin, TimestampMixin, TenantMixin, Base):
    """The raw body of a webhook, kept for replay and debugging for a bounded time.

    Bodies hold customer messages and phone numbers, so each row carries ``expires_at`` (from the
    organisation's ``data_retention``) and a sweeper deletes expired rows; the original kept full
    bodies in logs forever.
    """

    __tablename__ = "webhook_receipts"

    channel_id: Mapped[uuid.UUID]
    raw_body: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    signature: Mapped[str | None] = mapped_column(sa.String(128))
    received_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
    correlation_id: Mapped[str | None] = mapped_column(sa.String(64))
    expires_at: Mapped[dt.datetime]

    __table_args__ = (
        tenant_fk("channel_id", "whatsapp_channels"),
        sa.Index(
            "ix_webhook_receipts_organisation_id_received_at", "organisation_id", "received_at"
        ),
        # The retention sweeper runs across tenants.
        sa.Index("ix_webhook_receipts_expires_at", "expires_at"),
    )
