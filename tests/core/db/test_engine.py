"""The engine's pool: a connection that sat idle is pinged before use, and one the server
dropped is replaced instead of failing a request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.core.db.engine import create_engine
from funnel.core.events.listener import asyncpg_dsn
from funnel.core.settings import DatabaseSettings

EngineFactory = Callable[[float], AsyncEngine]


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[EngineFactory]:
    made: list[AsyncEngine] = []

    def make(ping_after_idle_s: float) -> AsyncEngine:
        settings = DatabaseSettings(
            url=SecretStr(database_url), pool_size=1, ping_after_idle_s=ping_after_idle_s
        )
        made.append(create_engine(settings))
        return made[-1]

    yield make
    for engine in made:
        await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(database_url: str, pid: int) -> None:
    """What a failover, a restart or an idle timeout does to a pooled connection."""
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_only_a_connection_that_sat_idle_is_pinged(
    engines: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engines(0.5)
    await _backend_pid(engine)  # open the pool's connection
    pings = 0
    original = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        nonlocal pings
        pings += 1
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    for _ in range(3):
        await _backend_pid(engine)
    assert pings == 0
    # Once it has sat idle longer than the setting, it is.
    await asyncio.sleep(0.7)
    await _backend_pid(engine)
    assert pings == 1


async def test_an_idle_connection_the_server_dropped_is_replaced(
    engines: EngineFactory, database_url: str
) -> None:
    engine = engines(0.05)
    pid = await _backend_pid(engine)
    await _terminate(database_url, pid)
    await asyncio.sleep(0.2)
    # The ping at checkout finds it dead, and the pool opens a new one: no error.
    assert await _backend_pid(engine) != pid


async def test_a_recently_used_connection_is_trusted_and_the_pool_recovers_after_one_error(
    engines: EngineFactory, database_url: str
) -> None:
    """The trade-off of not pinging a connection used a moment ago: if the server dropped it in
    between, the first statement on it fails; the pool is then invalidated as a whole, and the
    next checkout gets a fresh connection."""
    engine = engines(60)
    pid = await _backend_pid(engine)
    await _terminate(database_url, pid)
    await asyncio.sleep(0.1)
    with pytest.raises(DBAPIError) as caught:
        await _backend_pid(engine)
    assert caught.value.connection_invalidated
    assert await _backend_pid(engine) != pid


async def test_zero_pings_at_every_checkout(engines: EngineFactory, database_url: str) -> None:
    engine = engines(0)
    pid = await _backend_pid(engine)
    await _terminate(database_url, pid)
    await asyncio.sleep(0.1)
    assert await _backend_pid(engine) != pid
