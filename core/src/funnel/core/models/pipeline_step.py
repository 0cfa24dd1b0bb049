from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_fk
from funnel.core.models.enums import PipelineStage


class PipelineStep(IdMixin, TimestampMixin, TenantMixin, Base):
    """One stage of a pipeline run: model, prompt version, latency, tokens, output, error.

    ``attempt`` counts retries of the same stage; each attempt is kept.
    """

    __tablename__ = "pipeline_steps"

    run_id: Mapped[uuid.UUID]
    stage: Mapped[PipelineStage] = mapped_column(enum_type(PipelineStage, "stage"))
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    model: Mapped[str | None] = mapped_column(sa.String(128))
    prompt_version: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
    latency_ms: Mapped[int | None]
    input_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    output_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    output: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: Where guardrails changed the stage's output (e.g. an invented CTA id dropped).
    overrides: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )

    __table_args__ = (
        tenant_fk("run_id", "pipeline_runs"),
        sa.UniqueConstraint("organisation_id", "run_id", "stage", "attempt"),
    )
