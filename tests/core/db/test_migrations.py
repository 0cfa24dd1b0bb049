"""The packaged migrations: they round-trip on one database and match the models exactly."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from funnel.core.db.migrate import downgrade_async, migrations_dir, upgrade_async
from funnel.core.devstack.postgres import create_database, drop_database
from funnel.core.models import Base


@pytest_asyncio.fixture
async def empty_database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    name = f"funnel_empty_{uuid.uuid4().hex[:12]}"
    url = await create_database(postgres_admin_url, name)
    try:
        yield url
    finally:
        await drop_database(postgres_admin_url, name)


@dataclasses.dataclass
class DatabaseState:
    tables: set[str]
    extensions: set[str]
    role_exists: bool
    revision: str | None


async def _inspect(url: str) -> DatabaseState:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            tables = set(
                (
                    await connection.execute(
                        sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                ).scalars()
            )
            extensions = set(
                (await connection.execute(sa.text("SELECT extname FROM pg_extension"))).scalars()
            )
            role = await connection.scalar(
                sa.text("SELECT count(*) FROM pg_roles WHERE rolname = 'funnel_tenant'")
            )
            revision = (
                await connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
                if "alembic_version" in tables
                else None
            )
    finally:
        await engine.dispose()
    return DatabaseState(tables, extensions, role == 1, revision)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True},
    )
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade_round_trips(empty_database_url: str) -> None:
    funnel_tables = set(Base.metadata.tables)

    await upgrade_async(empty_database_url)
    state = await _inspect(empty_database_url)
    assert funnel_tables <= state.tables
    assert {"vector", "pg_trgm"} <= state.extensions
    assert state.revision == "0005"

    await downgrade_async(empty_database_url, "base")
    state = await _inspect(empty_database_url)
    # Only Alembic's own bookkeeping table is left, empty; the extension is gone.
    assert state.tables == {"alembic_version"}
    assert state.revision is None
    assert "vector" not in state.extensions
    assert "pg_trgm" not in state.extensions
    # The role is cluster-wide and deliberately kept (other databases may use it).
    assert state.role_exists

    await upgrade_async(empty_database_url)
    state = await _inspect(empty_database_url)
    assert funnel_tables <= state.tables
    assert state.revision == "0005"


async def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate against the migrated database finds nothing to do: no model change was
    left without a migration, and no migration drifted from the models."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


def test_migrations_are_packaged_with_the_library() -> None:
    root = migrations_dir()
    assert (root / "env.py").is_file()
    assert (root / "script.py.mako").is_file()
    assert sorted(p.name for p in (root / "versions").glob("*.py"))[:3] == [
        "0001_initial_schema.py",
        "0002_row_level_security.py",
        "0003_handoff_notice_login_throttle_lead_search.py",
    ]
