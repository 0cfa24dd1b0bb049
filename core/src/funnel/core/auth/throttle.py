"""Login throttling: per account and per client IP, with a lockout window, shared by every API
replica through the ``login_attempts`` table.

Where the counters live, and why: **in PostgreSQL**. Kept in process memory they gave an attacker
N times the allowance behind N replicas, and a restart forgot them. A row per counted attempt is
the price: one insert per attempt for the address, one per failed password for the account, each
in its own short transaction (the login's own transaction rolls back on a wrong password, and the
failure must still count). That is small next to the argon2 verification every attempt costs
anyway, and it is bounded: an address over its rate is refused *before* anything is written, so a
flood from one address writes at most ``ip_attempts`` rows per window.

Rules (unchanged from the in-memory version):

- an **account** (the e-mail address, case-insensitive) is locked while ``account_failures``
  failed passwords lie inside ``account_window_s``; the lock lifts when the oldest of them leaves
  the window, and ``Retry-After`` says when. A successful login clears the account's failures;
- an **address** may make ``ip_attempts`` attempts (successful or not) per ``ip_window_s``; a
  success does not clear it (one valid account must not launder a spraying address).

Consistency across replicas: the address check and its insert run under a transaction-scoped
advisory lock on the address, so concurrent attempts from one address on different replicas are
counted exactly. Account failures are recorded after the password check, so a few concurrent
wrong guesses may each pass the check before any is recorded (at most one per request in flight),
as in the in-memory version. Times are the database's ``now()``, one clock for every replica.

Keys are stored as the SHA-256 of the normalised e-mail or the address, so the table holds no plain
addresses. Rows older than the longest window are deleted as attempts arrive: the checked key's
own old rows every time, and every ``prune_every``-th attempt of a process a bounded batch of
anyone's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funnel.core.errors import RateLimited
from funnel.core.models.login_attempt import LoginAttempt

ACCOUNT = "account"
IP = "ip"


@dataclasses.dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    account_failures: int = 5
    account_window_s: float = 15 * 60
    ip_attempts: int = 30
    ip_window_s: float = 5 * 60
    #: Every this many counted attempts, a process also deletes expired rows of any key.
    prune_every: int = 200
    #: At most this many expired rows deleted by one such pass.
    prune_batch: int = 5_000


def _limited(scope: str, wait_s: float) -> RateLimited:
    seconds = max(1, math.ceil(wait_s))
    what = (
        "failed logins for this account" if scope == ACCOUNT else "login attempts from this address"
    )
    error = RateLimited(f"too many {what}; try again in {seconds} s", retry_after_s=seconds)
    error.details = {"limit": scope, "retry_after_s": seconds}
    return error


def key_hash(scope: str, key: str) -> str:
    normalised = key.strip().lower() if scope == ACCOUNT else key.strip()
    return hashlib.sha256(normalised.encode()).hexdigest()


class LoginThrottle:
    """The login rate limit over ``login_attempts``; ``sessions`` open unscoped sessions (the
    table is identity data, outside tenant scope)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], policy: ThrottlePolicy | None = None
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        self._sessions = sessions
        self._counted = 0

    async def check(self, account: str, ip: str | None) -> None:
        """Raise :class:`RateLimited` when this account is locked or this address is over its
        rate. Otherwise count the attempt against the address (every attempt, successful or
        not)."""
        account_key = key_hash(ACCOUNT, account)
        ip_key = key_hash(IP, ip) if ip else None
        async with self._sessions() as session, session.begin():
            if ip_key is not None:
                # Serialises check-and-insert for one address across every replica.
                await session.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"login:{ip_key}")))
                )
            account_wait = await self._wait(
                session, ACCOUNT, account_key, self.policy.account_failures,
                self.policy.account_window_s,
            )  # fmt: skip
            ip_wait = 0.0
            if ip_key is not None:
                ip_wait = await self._wait(
                    session, IP, ip_key, self.policy.ip_attempts, self.policy.ip_window_s
                )
            if account_wait > 0 or ip_wait > 0:
                # Unknown addresses count failures too, so naming the limit reveals nothing
                # about which accounts exist.
                raise _limited(
                    ACCOUNT if account_wait >= ip_wait else IP, max(account_wait, ip_wait)
                )
            if ip_key is not None:
                await self._record(session, IP, ip_key, self.policy.ip_window_s)

    async def failure(self, account: str) -> None:
        """A wrong password (or unknown or inactive account) for ``account``."""
        async with self._sessions() as session, session.begin():
            await self._record(
                session, ACCOUNT, key_hash(ACCOUNT, account), self.policy.account_window_s
            )

    async def success(self, account: str) -> None:
        """A successful login clears the account's failures (not the address's attempts)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                sa.delete(LoginAttempt).where(
                    LoginAttempt.scope == ACCOUNT,
                    LoginAttempt.key_hash == key_hash(ACCOUNT, account),
                )
            )

    async def _wait(
        self, session: AsyncSession, scope: str, key: str, limit: int, window_s: float
    ) -> float:
        """Seconds until fewer than ``limit`` counted events lie inside the window (0: none)."""
        if limit <= 0:
            return window_s  # logins switched off: always a full window away
        window = sa.func.make_interval(0, 0, 0, 0, 0, 0, window_s)
        # The limit-th newest event in the window: the lock lifts when it leaves the window.
        oldest_that_counts = (
            sa.select(LoginAttempt.attempted_at)
            .where(
                LoginAttempt.scope == scope,
                LoginAttempt.key_hash == key,
                LoginAttempt.attempted_at > sa.func.now() - window,
            )
            .order_by(LoginAttempt.attempted_at.desc())
            .offset(limit - 1)
            .limit(1)
            .scalar_subquery()
        )
        seconds = await session.scalar(
            sa.select(sa.extract("epoch", oldest_that_counts + window - sa.func.now()))
        )
        return max(0.0, float(seconds)) if seconds is not None else 0.0

    async def _record(self, session: AsyncSession, scope: str, key: str, window_s: float) -> None:
        expired = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, window_s)
        await session.execute(
            sa.delete(LoginAttempt).where(
                LoginAttempt.scope == scope,
                LoginAttempt.key_hash == key,
                LoginAttempt.attempted_at <= expired,
            )
        )
        session.add(LoginAttempt(scope=scope, key_hash=key))
        self._counted += 1
        if self._counted % self.policy.prune_every == 0:
            await self.prune(session)

    async def prune(self, session: AsyncSession) -> int:
        """Delete up to ``prune_batch`` rows older than the longest window, of any key."""
        longest = max(self.policy.account_window_s, self.policy.ip_window_s)
        expired = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, longest)
        batch = (
            sa.select(LoginAttempt.id)
            .where(LoginAttempt.attempted_at <= expired)
            .limit(self.policy.prune_batch)
            .scalar_subquery()
        )
        result = await session.execute(sa.delete(LoginAttempt).where(LoginAttempt.id.in_(batch)))
        return int(getattr(result, "rowcount", 0) or 0)
