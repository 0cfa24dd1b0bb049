"""The async engine and session factory every process builds from settings."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from funnel.core.settings import DatabaseSettings

#: When the connection last went back to the pool (``time.monotonic()``), in its record's info.
_RETURNED_AT = "funnel.returned_at"


def create_engine(
    settings: DatabaseSettings, *, application_name: str = "funnel", pre_ping: bool = True
) -> AsyncEngine:
    """An asyncpg engine with the configured pool and a server-side statement timeout.

    The timeout is a connection parameter (``server_settings``) rather than a per-query option,
    so it also bounds queries nobody remembered to bound. ``pre_ping`` drops connections a
    failover or an idle timeout killed instead of failing the next request with them; only
    connections idle for more than ``settings.ping_after_idle_s`` are pinged (see
    :func:`_ping_when_idle`). A caller that retries a transaction which hit a dropped connection
    (the worker does) can turn it off.
    """
    url = settings.url.get_secret_value()
    if not url:
        raise ValueError("no database URL configured (FUNNEL_DATABASE__URL)")
    engine = _create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=pre_ping and settings.ping_after_idle_s == 0,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": application_name,
            }
        },
    )
    if pre_ping and settings.ping_after_idle_s > 0:
        _ping_when_idle(engine.sync_engine, settings.ping_after_idle_s)
    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection at checkout only when it sat idle for more than ``idle_s``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: with asyncpg that is three round
    trips (``BEGIN``, an empty statement, ``ROLLBACK``), more than a read-only request's own
    work. What the ping guards against (a proxy or server idle timeout, a restart) mostly hits
    connections that sat unused; a connection used a moment ago is alive unless the server went
    away since, and then the first request to notice fails, SQLAlchemy invalidates the whole
    pool, and every other connection is replaced at its next checkout. A failed ping raises
    ``DisconnectionError``, on which the pool retries with a fresh connection.
    """

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        # A new connection has never been returned: it was just opened, no need to ping it.
        if returned_at is None or time.monotonic() - returned_at <= idle_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.DisconnectionError("pooled connection failed its ping") from error


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit: async code cannot lazily refresh
    them, and the edge usually serialises a result after committing it."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
