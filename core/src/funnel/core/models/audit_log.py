from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type
from funnel.core.models.enums import ActorKind


class AuditLog(IdMixin, TimestampMixin, TenantMixin, Base):
    """Who changed what: settings, users, takeovers, secrets (never the secret itself)."""

    __tablename__ = "audit_logs"

    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind, "actor_kind"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(100))
    entity_type: Mapped[str] = mapped_column(sa.String(64))
    #: Text, not uuid: some entities are keyed by WhatsApp ids.
    entity_id: Mapped[str | None] = mapped_column(sa.String(255))
    changes: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    ip: Mapped[str | None] = mapped_column(postgresql.INET)
    correlation_id: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_audit_logs_organisation_id_created_at", "organisation_id", "created_at"),
        sa.Index(
            "ix_audit_logs_organisation_id_entity_type_entity_id",
            "organisation_id",
            "entity_type",
            "entity_id",
        ),
    )
