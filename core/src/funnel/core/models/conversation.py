from __future__ import annotations

import datetime as dt
import uuid

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
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    CtaState,
    IntentLevel,
    Sentiment,
)
from funnel.core.models.lead import Lead


class Conversation(IdMixin, TimestampMixin, TenantMixin, Base):
    """One sales thread with a lead. At most one is open (mode not ``closed``) per lead, enforced
    by a partial unique index, so concurrent inbound messages cannot open two threads."""

    __tablename__ = "conversations"

    lead_id: Mapped[uuid.UUID]
    channel_id: Mapped[uuid.UUID]
    mode: Mapped[ConversationMode] = mapped_column(
        enum_type(ConversationMode, "mode"),
        default=ConversationMode.BOT,
        server_default=ConversationMode.BOT.value,
    )
    stage: Mapped[ConversationStage] = mapped_column(
        enum_type(ConversationStage, "stage"),
        default=ConversationStage.GREETING,
        server_default=ConversationStage.GREETING.value,
    )
    intent_level: Mapped[IntentLevel] = mapped_column(
        enum_type(IntentLevel, "intent_level"),
        default=IntentLevel.UNKNOWN,
        server_default=IntentLevel.UNKNOWN.value,
    )
    sentiment: Mapped[Sentiment] = mapped_column(
        enum_type(Sentiment, "sentiment"),
        default=Sentiment.NEUTRAL,
        server_default=Sentiment.NEUTRAL.value,
    )
    assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    needs_attention: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    attention_reason: Mapped[str | None] = mapped_column(sa.String(500))
    attention_raised_at: Mapped[dt.datetime | None]
    attention_resolved_at: Mapped[dt.datetime | None]

    cta_id: Mapped[uuid.UUID | None]
    cta_state: Mapped[CtaState | None] = mapped_column(enum_type(CtaState, "cta_state"))
    cta_updated_at: Mapped[dt.datetime | None]
    #: When the lead agreed to do the CTA (a call slot, a visit), if the Brain extracted one.
    cta_scheduled_at: Mapped[dt.datetime | None]

    rolling_summary: Mapped[str | None] = mapped_column(sa.Text)
    #: How many messages the summary covers, so Memory knows where to continue from.
    summary_message_count: Mapped[int] = mapped_column(default=0, server_default="0")
    followups_sent_24h: Mapped[int] = mapped_column(default=0, server_default="0")
    total_nudges: Mapped[int] = mapped_column(default=0, server_default="0")
    last_followup_at: Mapped[dt.datetime | None]

    last_message_preview: Mapped[str | None] = mapped_column(sa.String(500))
    last_message_at: Mapped[dt.datetime | None]
    #: WhatsApp's timestamp of the lead's last message (the 24-hour window's anchor).
    last_inbound_at: Mapped[dt.datetime | None]
    #: ``last_inbound_at`` + 24 h: the planner compares one column, and "window closing soon"
    #: follow-ups can be found by range.
    window_expires_at: Mapped[dt.datetime | None]
    last_bot_message_at: Mapped[dt.datetime | None]
    last_human_message_at: Mapped[dt.datetime | None]
    #: Human takeover: since when, and when the bot gets the conversation back.
    human_since: Mapped[dt.datetime | None]
    auto_release_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    lead: Mapped[Lead] = relationship(
        lazy="raise", primaryjoin=lambda: Lead.id == foreign(Conversation.lead_id)
    )

    __table_args__ = (
        tenant_key(__tablename__),
        tenant_fk("lead_id", "leads"),
        tenant_fk("channel_id", "whatsapp_channels"),
        tenant_fk("cta_id", "ctas", ondelete="SET NULL"),
        sa.CheckConstraint(
            "(mode = 'closed') = (closed_at IS NOT NULL)", name="closed_has_timestamp"
        ),
        sa.CheckConstraint(
            "followups_sent_24h >= 0 AND total_nudges >= 0", name="counters_not_negative"
        ),
        sa.Index(
            "uq_conversations_organisation_id_lead_id_open",
            "organisation_id",
            "lead_id",
            unique=True,
            postgresql_where=sa.text("mode <> 'closed'"),
        ),
        # The inbox, newest first.
        sa.Index(
            "ix_conversations_organisation_id_last_message_at",
            "organisation_id",
            sa.text("last_message_at DESC NULLS LAST"),
        ),
        # The Action Center: only flagged rows are indexed, so it stays small.
        sa.Index(
            "ix_conversations_organisation_id_needs_attention",
            "organisation_id",
            "attention_raised_at",
            postgresql_where=sa.text("needs_attention"),
        ),
        sa.Index(
            "ix_conversations_organisation_id_assigned_user_id",
            "organisation_id",
            "assigned_user_id",
        ),
        sa.Index("ix_conversations_organisation_id_lead_id", "organisation_id", "lead_id"),
    )
