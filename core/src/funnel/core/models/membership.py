from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type
from funnel.core.models.enums import MembershipRole
from funnel.core.models.user import User


class Membership(IdMixin, TimestampMixin, TenantMixin, Base):
    """A user's role in one organisation. Roles replace the original's "everyone can do
    everything": owner > admin > agent > viewer, enforced by the API."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[MembershipRole] = mapped_column(enum_type(MembershipRole, "role"))

    user: Mapped[User] = relationship(lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "user_id"),
        # "Which organisations is this user in?" at login, before any tenant scope exists.
        sa.Index("ix_memberships_user_id", "user_id"),
    )
