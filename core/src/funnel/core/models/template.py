from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_key
from funnel.core.models.enums import (
    TemplateCategory,
    TemplateParameterFormat,
    TemplatePurpose,
    TemplateStatus,
)


class Template(IdMixin, TimestampMixin, TenantMixin, Base):
    """A WhatsApp message template, the only thing that may be sent outside the 24-hour window."""

    __tablename__ = "templates"

    meta_template_id: Mapped[str | None] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(512))
    language: Mapped[str] = mapped_column(sa.String(16))
    category: Mapped[TemplateCategory] = mapped_column(enum_type(TemplateCategory, "category"))
    status: Mapped[TemplateStatus] = mapped_column(
        enum_type(TemplateStatus, "status"),
        default=TemplateStatus.DRAFT,
        server_default=TemplateStatus.DRAFT.value,
    )
    quality_score: Mapped[str | None] = mapped_column(sa.String(32))
    #: Header, body, footer and buttons in Meta's format.
    components: Mapped[list[Any]] = mapped_column(
        default=list, server_default=sa.text("'[]'::jsonb")
    )
    parameter_format: Mapped[TemplateParameterFormat] = mapped_column(
        enum_type(TemplateParameterFormat, "parameter_format"),
        default=TemplateParameterFormat.POSITIONAL,
        server_default=TemplateParameterFormat.POSITIONAL.value,
    )
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: What the send planner may use it for when the window is closed.
    purpose: Mapped[TemplatePurpose | None] = mapped_column(enum_type(TemplatePurpose, "purpose"))
    submitted_at: Mapped[dt.datetime | None]
    approved_at: Mapped[dt.datetime | None]
    last_synced_at: Mapped[dt.datetime | None]

    __table_args__ = (
        tenant_key(__tablename__),
        sa.UniqueConstraint("organisation_id", "name", "language"),
        sa.Index(
            "ix_templates_organisation_id_purpose_status", "organisation_id", "purpose", "status"
        ),
    )
