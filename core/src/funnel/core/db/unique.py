"""Writes that may hit a unique constraint, refused as a conflict without spoiling the request."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.errors import Conflict


async def flush_unique(session: AsyncSession, conflict: str) -> None:
    """Flush pending changes inside a savepoint; a constraint violation becomes
    ``Conflict(conflict)``.

    The savepoint matters: PostgreSQL aborts a transaction at its first error, so without it the
    request could not even write its audit row or answer from the database afterwards. Only the
    changes of this flush are rolled back.
    """
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc
