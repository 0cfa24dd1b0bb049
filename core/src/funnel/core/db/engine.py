"""The async engine and session factory every process builds from settings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from funnel.core.settings import DatabaseSettings


def create_engine(
    settings: DatabaseSettings, *, application_name: str = "funnel", pre_ping: bool = True
) -> AsyncEngine:
    """An asyncpg engine with the configured pool and a server-side statement timeout.

    The timeout is a connection parameter (``server_settings``) rather than a per-query option,
    so it also bounds queries nobody remembered to bound. ``pre_ping`` drops connections a
    failover or an idle timeout killed instead of failing the next request with them, at the
    cost of one round trip per checkout; a caller that retries a transaction which hit a
    dropped connection (the worker does) can turn it off.
    """
    url = settings.url.get_secret_value()
    if not url:
        raise ValueError("no database URL configured (FUNNEL_DATABASE__URL)")
    return _create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=pre_ping,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": application_name,
            }
        },
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit: async code cannot lazily refresh
    them, and the edge usually serialises a result after committing it."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
