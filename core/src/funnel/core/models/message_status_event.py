from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type
from funnel.core.models.enums import MessageStatus


class MessageStatusEvent(IdMixin, TimestampMixin, TenantMixin, Base):
    """A status webhook (sent, delivered, read, failed) for an outbound message.

    ``UNIQUE (organisation_id, wamid, status)`` makes a redelivered status harmless (``ON CONFLICT
    DO NOTHING``). There is deliberately no foreign key to ``messages``: a status can arrive before
    the send that produced it is stored, and is applied to the message when it is.
    """

    __tablename__ = "message_status_events"

    wamid: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[MessageStatus] = mapped_column(enum_type(MessageStatus, "status"))
    #: WhatsApp's timestamp of the status.
    occurred_at: Mapped[dt.datetime]
    recipient_id: Mapped[str | None] = mapped_column(sa.String(128))
    error_code: Mapped[int | None]
    error_title: Mapped[str | None] = mapped_column(sa.String(500))
    pricing: Mapped[dict[str, Any] | None]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=sa.text("'{}'::jsonb"))

    __table_args__ = (sa.UniqueConstraint("organisation_id", "wamid", "status"),)
