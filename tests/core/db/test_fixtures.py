"""The isolation the database fixtures promise: what one test commits, the next never sees."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import Organisation
from tests.factories import make_organisation

SLUG = f"isolation-{uuid.uuid4().hex[:8]}"


async def test_code_under_test_may_commit(db_session: AsyncSession) -> None:
    await make_organisation(db_session, slug=SLUG)
    await db_session.commit()
    # After a commit the session carries on in a new savepoint and still sees the row.
    assert await db_session.scalar(sa.select(Organisation.id).where(Organisation.slug == SLUG))


async def test_the_next_test_does_not_see_it(db_session: AsyncSession) -> None:
    found = await db_session.scalar(sa.select(Organisation.id).where(Organisation.slug == SLUG))
    assert found is None
