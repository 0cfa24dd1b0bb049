from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.auth.repository import ScopedRepository
from funnel.core.models import Organisation


class OrganisationRepository(ScopedRepository[Organisation]):
    """The caller's own organisation (row-level security scopes ``organisations`` by ``id``)."""

    model = Organisation
    scope_column_name = "id"

    async def get_own(self) -> Organisation | None:
        return await self.get_one_or_none(self.get_base_statement())


class PlatformOrganisationRepository:
    """Every organisation, for the platform operator. Runs on an unscoped session only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, after: tuple[str, uuid.UUID] | None, limit: int) -> Sequence[Organisation]:
        statement = (
            sa.select(Organisation).order_by(Organisation.slug, Organisation.id).limit(limit)
        )
        if after is not None:
            statement = statement.where(
                sa.tuple_(Organisation.slug, Organisation.id) > sa.tuple_(*after)
            )
        return (await self.session.scalars(statement)).all()
