from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin


class ApiKey(IdMixin, TimestampMixin, TenantMixin, Base):
    """A machine credential for one organisation. ``prefix`` is shown in the dashboard; the key
    is looked up by ``key_hash`` (globally unique, before any tenant scope exists)."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(sa.String(255))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(
        postgresql.ARRAY(sa.String(64)), default=list, server_default=sa.text("'{}'")
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    __table_args__ = (
        sa.Index("ix_api_keys_organisation_id_created_at", "organisation_id", "created_at"),
    )
