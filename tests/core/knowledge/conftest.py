from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.knowledge.ingest import SessionFactory
from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.settings import DatabaseSettings
from tests.factories import make_organisation


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=3))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


async def new_organisation(sessions: SessionFactory) -> uuid.UUID:
    async with sessions() as session:
        organisation = await make_organisation(session)
        await session.commit()
        return organisation.id


@pytest_asyncio.fixture
async def org(sessions: SessionFactory) -> uuid.UUID:
    return await new_organisation(sessions)
