from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TimestampMixin


class RefreshToken(IdMixin, TimestampMixin, Base):
    """One refresh token of a login session, stored as its SHA-256.

    Rotation: each refresh revokes the token and issues a successor in the same ``family_id``
    (``replaced_by_id`` links them). Presenting a revoked token is reuse, a sign of theft, and
    revokes the whole family. Identity data, handled by the auth service outside tenant scope,
    so it is not under row-level security; ``organisation_id`` is the organisation the session
    was opened in and goes when that organisation does.
    """

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    family_id: Mapped[uuid.UUID]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("refresh_tokens.id", ondelete="SET NULL")
    )
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))

    __table_args__ = (
        sa.Index("ix_refresh_tokens_user_id", "user_id"),
        sa.Index("ix_refresh_tokens_family_id", "family_id"),
    )
