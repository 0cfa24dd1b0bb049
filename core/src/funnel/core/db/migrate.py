"""Running the packaged Alembic migrations from code: ``funnel db``, ``funnel dev``, tests."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config

#: The migrations ship inside the package, so an installed ``funnel db upgrade`` finds them.
MIGRATIONS_PACKAGE = "funnel.core.migrations"


def migrations_dir() -> Path:
    return Path(str(resources.files(MIGRATIONS_PACKAGE)))


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` without an ``alembic.ini``.

    The URL travels in ``config.attributes`` rather than the ini options, whose ``%``
    interpolation would mangle percent-encoded passwords.
    """
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """:func:`upgrade` from async code: the migration environment calls ``asyncio.run``, which
    refuses to start inside a running loop, so it runs in a worker thread."""
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade, url, revision)
