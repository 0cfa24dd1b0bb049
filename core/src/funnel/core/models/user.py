from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TimestampMixin


class User(IdMixin, TimestampMixin, Base):
    """A person who logs in. Global: one user can be a member of several organisations.

    Emails are unique case-insensitively (a functional unique index on ``lower(email)``), so
    ``Ana@x.com`` and ``ana@x.com`` cannot be two accounts. Row-level security lets a tenant see
    only users who are members of its organisation.
    """

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(sa.String(320))
    name: Mapped[str] = mapped_column(sa.String(255))
    #: argon2id (``funnel.core.security.passwords``); NULL for an invited user not yet joined.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    is_platform_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_login_at: Mapped[dt.datetime | None]

    __table_args__ = (sa.Index("uq_users_email_lower", sa.func.lower(email), unique=True),)
