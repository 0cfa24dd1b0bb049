"""Hybrid retrieval on PostgreSQL: tenant isolation (SQL filter and row-level security each on
their own), one embedding model at a time, "no grounding" below the threshold, the trace's
chunk records, and the HNSW index serving the tenant-filtered vector half."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from funnel.core.htl.schemas import OrgProfile, TurnContext
from funnel.core.htl.turn import Retriever
from funnel.core.knowledge.ingest import SessionFactory, ingest_document, scoped_session
from funnel.core.knowledge.repository import KnowledgeChunkRepository
from funnel.core.knowledge.search import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    KnowledgeRetriever,
    keyword_terms,
    search,
    tune_hnsw,
)
from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.models.knowledge_chunk import KnowledgeChunk
from tests.core.knowledge.conftest import new_organisation
from tests.fixtures.knowledge.evaluation import KB_DIR, ingest_knowledge_base

HNSW_INDEX = "ix_knowledge_chunks_embedding_hnsw"


def _ctx(organisation_id: uuid.UUID) -> TurnContext:
    return TurnContext(
        org=OrgProfile(organisation_id=str(organisation_id), business_name="Saanjh Home")
    )


async def _owners(sessions: SessionFactory, chunk_ids: list[str]) -> set[uuid.UUID]:
    async with sessions() as session:
        result = await session.execute(
            sa.select(KnowledgeChunk.organisation_id).where(
                KnowledgeChunk.id.in_([uuid.UUID(i) for i in chunk_ids])
            )
        )
        return set(result.scalars())


async def test_identical_knowledge_in_two_organisations_never_crosses(
    sessions: SessionFactory, embedder: HashingEmbedder
) -> None:
    a, b = await new_organisation(sessions), await new_organisation(sessions)
    for org in (a, b):
        await ingest_knowledge_base(sessions, embedder, org)

    retriever = KnowledgeRetriever(sessions, embedder, top_k=10)
    for org, other in ((a, b), (b, a)):
        # Through the retriever: scoped tenant role, row-level security and the SQL filter.
        retrieval = await retriever(_ctx(org), "What is your return policy?")
        assert retrieval.grounded
        assert len(retrieval.chunks) == 10
        assert await _owners(sessions, [c.chunk_id for c in retrieval.chunks]) == {org}

        # Unscoped (the login role bypasses row-level security): the SQL filter alone holds.
        async with sessions() as session:
            hits = await search(session, org, "What is your return policy?", embedder, top_k=10)
        assert {h.organisation_id for h in hits} == {org}
        assert other not in await _owners(sessions, [str(h.chunk_id) for h in hits])


async def test_row_level_security_alone_hides_the_other_tenant(
    sessions: SessionFactory, embedder: HashingEmbedder
) -> None:
    a, b = await new_organisation(sessions), await new_organisation(sessions)
    policies = (KB_DIR / "policies.md").read_bytes()
    await ingest_document(sessions, embedder, b, "policies.md", policies)
    # A session scoped to A asking for B's chunks by B's id: the policy returns nothing.
    async with scoped_session(sessions, a) as session:
        hits = await search(session, b, "return policy", embedder)
    assert hits == []


async def test_vectors_of_another_model_are_never_searched(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    other_model = HashingEmbedder(model="gemini-embedding-001")
    policies = (KB_DIR / "policies.md").read_bytes()
    store = (KB_DIR / "store.txt").read_bytes()
    old = await ingest_document(sessions, embedder, org, "policies.md", policies)
    new = await ingest_document(sessions, other_model, org, "store.txt", store)
    async with scoped_session(sessions, org) as session:
        mine = await search(session, org, "pay by UPI or card", embedder, top_k=50)
        await session.commit()
        theirs = await search(session, org, "pay by UPI or card", other_model, top_k=50)
    # The UPI chunk is in store.txt, embedded by the other model: this model cannot see it.
    assert {h.document_id for h in mine} == {old.document_id}
    assert {h.document_id for h in theirs} == {new.document_id}


async def test_a_question_the_knowledge_cannot_answer_is_not_grounded(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    await ingest_knowledge_base(sessions, embedder, org)
    retriever: Retriever = KnowledgeRetriever(sessions, embedder)

    unanswerable = await retriever(_ctx(org), "Can you book me a flight to Goa?")
    assert unanswerable.attempted
    assert not unanswerable.grounded
    assert unanswerable.usable_chunks == []
    assert unanswerable.threshold == DEFAULT_CONFIDENCE_THRESHOLD
    assert all(c.score < DEFAULT_CONFIDENCE_THRESHOLD for c in unanswerable.chunks)

    answerable = await retriever(_ctx(org), "Is shipping free?")
    assert answerable.grounded
    best = answerable.usable_chunks[0]
    # What the trace records: ids, the titled source, a 0..1 score.
    assert "Shipping is free on orders above ₹799" in best.text
    assert (
        best.document_title == "policies › Saanjh Home store policies › Shipping › Shipping charges"
    )
    assert uuid.UUID(best.chunk_id)
    assert uuid.UUID(best.document_id)
    assert 0 < best.score <= 1
    assert [c.score for c in answerable.chunks] == sorted(
        (c.score for c in answerable.chunks), reverse=True
    )


async def test_an_organisation_without_knowledge_gets_no_grounding(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    retrieval = await KnowledgeRetriever(sessions, embedder)(_ctx(org), "price of the kadai?")
    assert retrieval.attempted
    assert not retrieval.grounded
    assert retrieval.chunks == []


def test_keyword_terms_drop_function_words_in_every_script() -> None:
    assert keyword_terms("What is the price of the Kadai?") == ["price", "kadai"]
    assert keyword_terms("tawa ka daam kya hai") == ["tawa", "daam"]
    assert keyword_terms("डिलीवरी कितने दिन में होगी?") == ["डिलीवरी", "कितने", "दिन", "होगी"]
    assert keyword_terms("?? !!") == []


async def _bulk_random_chunks(
    sessions: SessionFactory, organisation_id: uuid.UUID, count: int, model: str
) -> None:
    async with sessions() as session:
        document_id = uuid.uuid4()
        await session.execute(
            sa.text(
                "INSERT INTO knowledge_documents (id, organisation_id, title, doc_type, "
                "checksum_sha256, size_bytes, status) VALUES (:d, :o, 'bulk', 'text', :c, 0, "
                "'ready')"
            ),
            {"d": document_id, "o": organisation_id, "c": uuid.uuid4().hex * 2},
        )
        # Random vectors; the correlated subquery (g * 0) draws new numbers for every row.
        await session.execute(
            sa.text(
                "INSERT INTO knowledge_chunks (organisation_id, document_id, ordinal, content, "
                "embedding, embedding_model) SELECT :o, :d, g, 'chunk ' || g, "
                "array(SELECT random() - 0.5 + g * 0 FROM generate_series(1, 768))::vector, :m "
                "FROM generate_series(1, :n) g"
            ),
            {"o": organisation_id, "d": document_id, "m": model, "n": count},
        )
        await session.commit()


async def _plan(
    sessions: SessionFactory, organisation_id: uuid.UUID, embedder: HashingEmbedder
) -> str:
    vector = await embedder.embed_query("return policy")
    async with scoped_session(sessions, organisation_id) as session:
        await tune_hnsw(session)
        statement = KnowledgeChunkRepository(session, organisation_id).vector_statement(
            vector, embedder.model, 20
        )
        # Exactly the statement search() runs, its parameters inlined for EXPLAIN.
        sql = statement.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        return "\n".join((await session.execute(sa.text(f"EXPLAIN {sql}"))).scalars())


async def test_the_hnsw_index_serves_the_tenant_filtered_vector_query(
    sessions: SessionFactory, embedder: HashingEmbedder
) -> None:
    large, small = await new_organisation(sessions), await new_organisation(sessions)
    hnsw = next(
        i
        for i in KnowledgeChunk.metadata.tables["knowledge_chunks"].indexes
        if i.name == "ix_knowledge_chunks_embedding_hnsw"
    )
    async with sessions() as session:
        # Bulk load first, build the index after (this database is the test's own copy).
        await session.execute(sa.schema.DropIndex(hnsw))
        await session.commit()
    await _bulk_random_chunks(sessions, large, 4000, embedder.model)
    await _bulk_random_chunks(sessions, small, 200, embedder.model)
    async with sessions() as session:
        await session.execute(sa.schema.CreateIndex(hnsw))
        await session.execute(sa.text("ANALYZE knowledge_chunks"))
        await session.commit()

    plan = await _plan(sessions, large, embedder)
    assert "Index Scan using ix_knowledge_chunks_embedding_hnsw" in plan, plan
    # The tenant and model filters are applied inside that scan (iterative_scan keeps it going).
    assert "Filter: " in plan
    assert "organisation_id" in plan
    # A small tenant: the planner prefers reading its few rows exactly, also a correct plan.
    assert "ix_knowledge_chunks_embedding_hnsw" not in await _plan(sessions, small, embedder)
