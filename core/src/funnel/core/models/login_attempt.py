from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin


class LoginAttempt(IdMixin, Base):
    """One counted login attempt, shared by every API replica so the login rate limit holds
    across them (``funnel.core.auth.throttle``).

    ``scope`` is ``account`` (a failed password for one e-mail address; a success deletes that
    account's rows) or ``ip`` (every attempt from one client address). ``key_hash`` is the
    SHA-256 of the normalised e-mail or the address, so the table keeps no plain addresses.
    Rows older than the longest window are pruned as attempts arrive. Identity data, read only
    by the auth service outside tenant scope: not under row-level security, and the tenant role
    has no grant on it (like ``refresh_tokens``).
    """

    __tablename__ = "login_attempts"

    scope: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    attempted_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())

    __table_args__ = (
        sa.CheckConstraint("scope IN ('account', 'ip')", name="scope_known"),
        sa.Index(
            "ix_login_attempts_scope_key_hash_attempted_at", "scope", "key_hash", "attempted_at"
        ),
        sa.Index("ix_login_attempts_attempted_at", "attempted_at"),
    )
