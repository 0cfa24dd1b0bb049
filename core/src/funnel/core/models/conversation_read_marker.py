from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_fk


class ConversationReadMarker(IdMixin, TimestampMixin, TenantMixin, Base):
    """How far one operator has read one conversation: the customer's messages stored after
    ``last_read_at`` are unread for that operator. No row: nothing read yet."""

    __tablename__ = "conversation_read_markers"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[uuid.UUID]
    last_read_at: Mapped[dt.datetime]

    __table_args__ = (
        tenant_fk("conversation_id", "conversations"),
        # One marker per operator and conversation; also the inbox's lookup for a page.
        sa.UniqueConstraint(
            "organisation_id",
            "user_id",
            "conversation_id",
            name="uq_conversation_read_markers_user_conversation",
        ),
    )
