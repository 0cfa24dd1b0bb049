"""The login throttle over ``login_attempts``: exact per-address counting under concurrency
(two throttles, as two replicas would hold), and pruning of expired rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.core.auth.throttle import IP, LoginThrottle, ThrottlePolicy, key_hash
from funnel.core.db.engine import create_engine, session_factory
from funnel.core.errors import RateLimited
from funnel.core.models import LoginAttempt
from funnel.core.settings import DatabaseSettings


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=10))
    yield engine
    await engine.dispose()


async def test_concurrent_attempts_from_one_address_are_counted_exactly(
    engine: AsyncEngine,
) -> None:
    policy = ThrottlePolicy(ip_attempts=5, ip_window_s=60, account_failures=100)
    replicas = [LoginThrottle(session_factory(engine), policy) for _ in range(2)]

    async def attempt(i: int) -> bool:
        try:
            await replicas[i % 2].check(f"user{i}@example.com", "198.51.100.40")
        except RateLimited:
            return False
        return True

    allowed = await asyncio.gather(*(attempt(i) for i in range(12)))
    assert sum(allowed) == 5


async def test_prune_deletes_only_rows_older_than_the_longest_window(
    engine: AsyncEngine,
) -> None:
    policy = ThrottlePolicy(account_window_s=900, ip_window_s=300)
    throttle = LoginThrottle(session_factory(engine), policy)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for age_s in (60, 600, 1000, 5000):
            session.add(
                LoginAttempt(
                    scope=IP,
                    key_hash=key_hash(IP, f"192.0.2.{age_s % 250}"),
                    attempted_at=sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, age_s),
                )
            )
    async with sessions() as session, session.begin():
        assert await throttle.prune(session) == 2
    async with sessions() as session:
        left = await session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt))
    assert left == 2


async def test_a_zero_limit_refuses_every_attempt(engine: AsyncEngine) -> None:
    throttle = LoginThrottle(session_factory(engine), ThrottlePolicy(ip_attempts=0))
    with pytest.raises(RateLimited) as refused:
        await throttle.check("someone@example.com", "198.51.100.41")
    assert refused.value.retry_after_s == 300
