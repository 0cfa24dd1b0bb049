from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_fk


class LeadNote(IdMixin, TimestampMixin, TenantMixin, Base):
    """A note an operator writes on a lead."""

    __tablename__ = "lead_notes"

    lead_id: Mapped[uuid.UUID]
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)

    __table_args__ = (
        tenant_fk("lead_id", "leads"),
        sa.Index("ix_lead_notes_organisation_id_lead_id", "organisation_id", "lead_id"),
    )
