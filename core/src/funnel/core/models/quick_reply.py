from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_key


class QuickReply(IdMixin, TimestampMixin, TenantMixin, Base):
    """A saved reply the organisation's agents insert into the composer (admins manage them)."""

    __tablename__ = "quick_replies"

    title: Mapped[str] = mapped_column(sa.String(100))
    #: WhatsApp's limit for a text message's body.
    text: Mapped[str] = mapped_column(sa.String(4096))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        tenant_key(__tablename__),
        sa.UniqueConstraint("organisation_id", "title"),
    )
