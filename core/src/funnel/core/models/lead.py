from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import (
    Base,
    IdMixin,
    TenantMixin,
    TimestampMixin,
    enum_type,
    tenant_fk,
    tenant_key,
)
from funnel.core.models.enums import ConversationStage, IntentLevel, OptOutSource, Sentiment


class Lead(IdMixin, TimestampMixin, TenantMixin, Base):
    """A WhatsApp contact of one organisation, on one channel.

    A contact is known by its phone number (``wa_id``), by its business-scoped user id
    (``bsuid``, WhatsApp's ``user_id`` for username contacts who hide their number), or both.
    Each is unique per organisation and channel where present, so an inbound message can be
    upserted with ``ON CONFLICT`` instead of the original's racy get-or-create.

    ``stage``, ``intent_level`` and ``sentiment`` are a copy of the latest conversation's state for
    the leads list; the conversation service writes both in one transaction, and the pipeline
    reads only the conversation's.
    """

    __tablename__ = "leads"

    channel_id: Mapped[uuid.UUID]
    wa_id: Mapped[str | None] = mapped_column(sa.String(32))
    bsuid: Mapped[str | None] = mapped_column(sa.String(128))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    company: Mapped[str | None] = mapped_column(sa.String(255))
    language: Mapped[str | None] = mapped_column(sa.String(16))
    attributes: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    tags: Mapped[list[str]] = mapped_column(
        postgresql.ARRAY(sa.Text), default=list, server_default=sa.text("'{}'")
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
    #: Do not contact. The send planner refuses every proactive send while it is set.
    opted_out: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    opted_out_at: Mapped[dt.datetime | None]
    opt_out_source: Mapped[OptOutSource | None] = mapped_column(
        enum_type(OptOutSource, "opt_out_source")
    )
    #: WhatsApp's timestamp of the last inbound message: the 24-hour window opens there.
    last_inbound_at: Mapped[dt.datetime | None]
    #: Memory's durable facts about the lead (budget, city, product interest...).
    facts: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )

    __table_args__ = (
        tenant_key(__tablename__),
        tenant_fk("channel_id", "whatsapp_channels"),
        sa.CheckConstraint("wa_id IS NOT NULL OR bsuid IS NOT NULL", name="has_contact_id"),
        sa.CheckConstraint(
            "opted_out = (opted_out_at IS NOT NULL)", name="opted_out_has_timestamp"
        ),
        sa.Index(
            "uq_leads_organisation_id_channel_id_wa_id",
            "organisation_id",
            "channel_id",
            "wa_id",
            unique=True,
            postgresql_where=sa.text("wa_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_leads_organisation_id_channel_id_bsuid",
            "organisation_id",
            "channel_id",
            "bsuid",
            unique=True,
            postgresql_where=sa.text("bsuid IS NOT NULL"),
        ),
        sa.Index("ix_leads_organisation_id_created_at", "organisation_id", "created_at"),
        sa.Index("ix_leads_organisation_id_stage", "organisation_id", "stage"),
        # GIN over a uuid and an array would need btree_gin; tag filters are always combined
        # with the tenant predicate, which the btree indexes above already narrow.
        sa.Index("ix_leads_tags", "tags", postgresql_using="gin"),
        # The list search is ``ILIKE '%term%'`` over these three columns (LeadRepository.filtered);
        # trigram indexes serve an unanchored ILIKE, one bitmap scan per column OR-ed together.
        *(
            sa.Index(
                f"ix_leads_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )
            for column in ("name", "wa_id", "email")
        ),
    )
