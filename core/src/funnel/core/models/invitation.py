from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type
from funnel.core.models.enums import MembershipRole


class Invitation(IdMixin, TimestampMixin, TenantMixin, Base):
    """An invitation to join an organisation. Only the SHA-256 of the token is stored: the token
    itself travels once, in the invite link (the original let anyone who knew an org id join)."""

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(sa.String(320))
    role: Mapped[MembershipRole] = mapped_column(enum_type(MembershipRole, "role"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    accepted_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        # One open invitation per address and organisation; re-inviting replaces it.
        sa.Index(
            "uq_invitations_organisation_id_email_open",
            "organisation_id",
            sa.func.lower(email),
            unique=True,
            postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )
