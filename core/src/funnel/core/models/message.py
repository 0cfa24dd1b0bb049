from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from funnel.core.db.base import (
    Base,
    IdMixin,
    TenantMixin,
    TimestampMixin,
    enum_type,
    tenant_fk,
    tenant_key,
)
from funnel.core.models.conversation import Conversation
from funnel.core.models.enums import MessageAuthor, MessageDirection, MessageStatus, MessageType


class Message(IdMixin, TimestampMixin, TenantMixin, Base):
    """One WhatsApp message, inbound or outbound, or a system entry in the timeline.

    ``UNIQUE (organisation_id, wamid)`` is the inbound deduplication: Meta redelivers for days and
    every hop is at-least-once, so ingest is ``INSERT … ON CONFLICT DO NOTHING``. An outbound
    message has no wamid until Graph accepts it (NULLs do not collide).

    There is no ``outbox_id`` here: the outbox row points at its message (``outbox.message_id``,
    unique), which avoids a foreign-key cycle between the two tables.
    """

    __tablename__ = "messages"

    conversation_id: Mapped[uuid.UUID]
    lead_id: Mapped[uuid.UUID]
    direction: Mapped[MessageDirection] = mapped_column(enum_type(MessageDirection, "direction"))
    author: Mapped[MessageAuthor] = mapped_column(enum_type(MessageAuthor, "author"))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    type: Mapped[MessageType] = mapped_column(
        enum_type(MessageType, "type"), default=MessageType.TEXT, server_default="text"
    )
    #: The text, or a media caption; what the pipeline and search read.
    text: Mapped[str | None] = mapped_column(sa.Text)
    #: The structured part (interactive buttons, location, template parameters, reaction...).
    content: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    wamid: Mapped[str | None] = mapped_column(sa.String(255))
    reply_to_wamid: Mapped[str | None] = mapped_column(sa.String(255))
    #: WhatsApp's own timestamp: the ordering key for a conversation's events.
    whatsapp_timestamp: Mapped[dt.datetime | None]
    status: Mapped[MessageStatus] = mapped_column(enum_type(MessageStatus, "status"))
    status_updated_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    read_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    error_code: Mapped[int | None]
    error_title: Mapped[str | None] = mapped_column(sa.String(500))
    media_id: Mapped[uuid.UUID | None]
    pipeline_run_id: Mapped[uuid.UUID | None]

    conversation: Mapped[Conversation] = relationship(
        lazy="raise",
        primaryjoin=lambda: Conversation.id == foreign(Message.conversation_id),
    )

    __table_args__ = (
        tenant_key(__tablename__),
        tenant_fk("conversation_id", "conversations"),
        tenant_fk("lead_id", "leads"),
        tenant_fk("media_id", "media_objects", ondelete="SET NULL"),
        tenant_fk("pipeline_run_id", "pipeline_runs", ondelete="SET NULL"),
        sa.UniqueConstraint("organisation_id", "wamid"),
        sa.Index(
            "ix_messages_organisation_id_conversation_id_created_at",
            "organisation_id",
            "conversation_id",
            "created_at",
        ),
        sa.Index("ix_messages_organisation_id_lead_id", "organisation_id", "lead_id"),
    )
