"""Knowledge chunks: the database fills the full-text vector, and nearest-neighbour search uses
the HNSW index."""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import KnowledgeChunk
from funnel.core.models.knowledge_chunk import EMBEDDING_DIMENSIONS
from tests.factories import make_knowledge_chunk, make_knowledge_document, make_organisation


async def test_search_vector_is_filled_by_the_database(db_session: AsyncSession) -> None:
    document = await make_knowledge_document(db_session, await make_organisation(db_session))
    chunk = await make_knowledge_chunk(
        db_session,
        document,
        title="Shipping",
        content="Delivery kitne din mein? 3-5 din. मुफ्त शिपिंग ₹799 से ऊपर।",
    )
    await db_session.refresh(chunk)
    assert "'shipping':1A" in chunk.search_vector  # the title, weight A

    def matches(query: str) -> sa.Select[tuple[int]]:
        return sa.select(sa.func.count()).where(
            KnowledgeChunk.id == chunk.id,
            KnowledgeChunk.search_vector.op("@@")(sa.func.plainto_tsquery("simple", query)),
        )

    # 'simple' keeps Hinglish and Devanagari words as they are written.
    assert await db_session.scalar(matches("kitne din")) == 1
    assert await db_session.scalar(matches("मुफ्त शिपिंग")) == 1
    assert await db_session.scalar(matches("refund")) == 0

    # An update recomputes it.
    chunk.content = "Returns within 7 days."
    await db_session.flush()
    assert await db_session.scalar(matches("returns")) == 1
    assert await db_session.scalar(matches("kitne")) == 0


async def test_nearest_neighbour_search_uses_the_hnsw_index(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    document = await make_knowledge_document(db_session, organisation)
    # A thousand random vectors, generated in the database (fast), so that the planner
    # prefers the index on its own merits rather than because sequential scans are disabled.
    await db_session.execute(
        sa.text(
            "INSERT INTO knowledge_chunks "
            "(organisation_id, document_id, ordinal, content, embedding, embedding_model) "
            "SELECT :organisation_id, :document_id, g, 'chunk ' || g, "
            # The WHERE on the outer g makes the subquery correlated: a new vector per row.
            "(SELECT array_agg(random() - 0.5)::vector(768) "
            " FROM generate_series(1, :dimensions) AS d WHERE g > 0), 'test' "
            "FROM generate_series(1, 1000) AS g"
        ),
        {
            "organisation_id": organisation.id,
            "document_id": document.id,
            "dimensions": EMBEDDING_DIMENSIONS,
        },
    )
    await db_session.execute(sa.text("ANALYZE knowledge_chunks"))

    query_vector = [random.uniform(-0.5, 0.5) for _ in range(EMBEDDING_DIMENSIONS)]
    nearest = (
        sa.select(KnowledgeChunk.id)
        .order_by(KnowledgeChunk.embedding.cosine_distance(query_vector))
        .limit(5)
    )
    compiled = nearest.compile(
        dialect=db_session.bind.dialect, compile_kwargs={"literal_binds": True}
    )
    plan = "\n".join((await db_session.execute(sa.text(f"EXPLAIN {compiled}"))).scalars())
    assert "ix_knowledge_chunks_embedding_hnsw" in plan, plan
    assert len((await db_session.execute(nearest)).all()) == 5
