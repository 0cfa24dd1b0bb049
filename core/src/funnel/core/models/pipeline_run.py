from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from funnel.core.db.base import (
    Base,
    IdMixin,
    TenantMixin,
    TimestampMixin,
    enum_type,
    tenant_fk,
    tenant_key,
)
from funnel.core.models.enums import PipelineRunStatus
from funnel.core.models.pipeline_step import PipelineStep


class PipelineRun(IdMixin, TimestampMixin, TenantMixin, Base):
    """One turn of the pipeline for a conversation: the trace the dashboard shows per message."""

    __tablename__ = "pipeline_runs"

    conversation_id: Mapped[uuid.UUID]
    #: The inbound messages this turn answers (a debounced burst can be several).
    trigger_message_ids: Mapped[list[uuid.UUID]] = mapped_column(
        postgresql.ARRAY(sa.Uuid), default=list, server_default=sa.text("'{}'")
    )
    correlation_id: Mapped[str | None] = mapped_column(sa.String(64))
    provider: Mapped[str] = mapped_column(sa.String(32))
    #: True when the offline provider answered (no API key): such turns are not real LLM output.
    is_offline: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[PipelineRunStatus] = mapped_column(
        enum_type(PipelineRunStatus, "status"),
        default=PipelineRunStatus.RUNNING,
        server_default=PipelineRunStatus.RUNNING.value,
    )
    started_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
    finished_at: Mapped[dt.datetime | None]
    latency_ms: Mapped[int | None]
    input_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    output_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    cost_usd: Mapped[decimal.Decimal] = mapped_column(
        sa.Numeric(12, 6), default=decimal.Decimal(0), server_default="0"
    )
    #: The Brain's decision and what the policy stage made of it.
    decision: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    error: Mapped[str | None] = mapped_column(sa.Text)

    steps: Mapped[list[PipelineStep]] = relationship(
        lazy="raise",
        primaryjoin="PipelineRun.id == foreign(PipelineStep.run_id)",
        order_by="PipelineStep.started_at",
        viewonly=True,
    )

    __table_args__ = (
        tenant_key(__tablename__),
        tenant_fk("conversation_id", "conversations"),
        sa.Index(
            "ix_pipeline_runs_organisation_id_conversation_id_started_at",
            "organisation_id",
            "conversation_id",
            "started_at",
        ),
        sa.Index("ix_pipeline_runs_organisation_id_started_at", "organisation_id", "started_at"),
    )
