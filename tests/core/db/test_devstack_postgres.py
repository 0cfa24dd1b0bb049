"""``ensure_database``: what ``funnel dev`` uses to find or start its database."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from funnel.core.devstack.postgres import embedded_server, ensure_database
from funnel.core.settings import DatabaseSettings, Settings


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Traversable by the OS user the server runs as when the tests run as root.
    base = Path(tempfile.mkdtemp(prefix="funnel-dev-state-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_a_configured_url_is_used_as_is(state_dir: Path) -> None:
    url = "postgresql+asyncpg://funnel:pw@db.internal:5432/funnel"
    settings = Settings(
        _env_file=None, state_dir=state_dir, database=DatabaseSettings(url=SecretStr(url))
    )
    assert ensure_database(settings) == url
    assert not (state_dir / "postgres").exists()


@pytest.mark.slow
async def test_without_a_url_an_embedded_server_is_started_once(state_dir: Path) -> None:
    settings = Settings(_env_file=None, state_dir=state_dir, database=DatabaseSettings())
    try:
        url = ensure_database(settings)
        assert url.startswith("postgresql+asyncpg://")
        assert url.split("?")[0].endswith("/funnel")
        # Idempotent: a second call (a second `funnel dev`) reuses the server and database.
        assert ensure_database(settings) == url
        assert (state_dir / "postgres" / "PG_VERSION").exists()

        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                assert await connection.scalar(sa.text("SELECT current_database()")) == "funnel"
        finally:
            await engine.dispose()
    finally:
        embedded_server(settings).stop()
