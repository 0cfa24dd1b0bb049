"""Ingestion end to end on PostgreSQL with the offline embedder: PDF and Markdown to stored,
embedded, searchable chunks; idempotency by checksum; bad input refused with nothing written;
failures recorded on the document; deletion takes the chunks with it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from funnel.core.knowledge.ingest import (
    SessionFactory,
    delete_document,
    ingest_document,
    list_documents,
    prepare_document,
    run_ingestion_job,
    scoped_session,
    submit_document,
)
from funnel.core.knowledge.schemas import (
    DocumentTooLarge,
    EmptyDocument,
    KnowledgeInputError,
    UnsupportedDocument,
)
from funnel.core.llm.embeddings import HASHING_MODEL, HashingEmbedder
from funnel.core.models.enums import KnowledgeDocumentStatus
from funnel.core.models.knowledge_chunk import KnowledgeChunk
from funnel.core.models.knowledge_document import MAX_DOCUMENT_BYTES, KnowledgeDocument
from tests.core.knowledge.conftest import new_organisation
from tests.fixtures.knowledge.evaluation import KB_DIR
from tests.fixtures.knowledge.pdf import build_pdf

POLICIES = (KB_DIR / "policies.md").read_bytes()

WARRANTY_PAGE = [
    "Warranty",
    "\n".join(
        f"Clause {i}: stainless steel cookware is covered for two years against manufacturing "
        "defects, claims are made on WhatsApp with the order number."
        for i in range(12)
    ),
]


def catalogue_pdf() -> bytes:
    return build_pdf(
        [
            ["Saanjh Home catalogue 2026", "Triply kadai 24 cm costs Rs. 2,499."],
            ["Shipping", "Free shipping on orders above Rs. 799, else a flat Rs. 79."],
            WARRANTY_PAGE,
        ],
        title="Catalogue",
    )


class CountingEmbedder(HashingEmbedder):
    """The offline embedder, counting what it is asked to embed; optionally failing."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.fail_on_call = fail_on_call

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise RuntimeError("embedding service unavailable")
        return await super().embed_documents(texts)


async def _chunks(sessions: SessionFactory, org: uuid.UUID) -> list[KnowledgeChunk]:
    async with sessions() as session:
        result = await session.execute(
            sa.select(KnowledgeChunk)
            .where(KnowledgeChunk.organisation_id == org)
            .order_by(KnowledgeChunk.document_id, KnowledgeChunk.ordinal)
        )
        return list(result.scalars())


async def _documents(sessions: SessionFactory, org: uuid.UUID) -> list[KnowledgeDocument]:
    async with sessions() as session:
        result = await session.execute(
            sa.select(KnowledgeDocument).where(KnowledgeDocument.organisation_id == org)
        )
        return list(result.scalars())


async def test_multi_page_pdf_is_chunked_by_page_embedded_and_searchable(
    sessions: SessionFactory, org: uuid.UUID
) -> None:
    progress: list[tuple[int, int]] = []
    embedder = CountingEmbedder()
    report = await ingest_document(
        sessions,
        embedder,
        org,
        "catalogue.pdf",
        catalogue_pdf(),
        "application/pdf",
        batch_size=2,
        progress=lambda done, total: progress.append((done, total)),
    )
    assert report.ok, report.error
    assert report.embedding_model == HASHING_MODEL
    chunks = await _chunks(sessions, org)
    assert len(chunks) == report.chunk_count >= 3
    assert all(len(c.content) <= 1000 for c in chunks)
    # Pages 1 and 2 are short and pack together with the start of page 3, up to the cap;
    # the rest of the long page 3 makes chunks of its own.
    assert chunks[0].page == 1
    assert chunks[0].metadata_["pages"] == [1, 2, 3]
    assert "Free shipping on orders above Rs. 799" in chunks[0].content
    assert all(c.metadata_["pages"] == [3] and c.page == 3 for c in chunks[1:])
    assert "Clause 11" in chunks[-1].content
    assert all(c.title == "catalogue" for c in chunks)
    assert all(c.embedding_model == HASHING_MODEL for c in chunks)
    assert all(c.embedding is not None and len(c.embedding) == 768 for c in chunks)
    assert all(c.token_count for c in chunks)
    # Batches of two, progress reported after each, ending at the total.
    assert embedder.calls == [2] * (len(chunks) // 2) + ([1] if len(chunks) % 2 else [])
    assert progress[-1] == (len(chunks), len(chunks))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)

    [document] = await _documents(sessions, org)
    assert document.status is KnowledgeDocumentStatus.READY
    assert document.progress == 100
    assert document.chunk_count == len(chunks)
    assert document.processed_at is not None
    assert document.error is None
    async with sessions() as session:
        content = await session.scalar(
            sa.select(KnowledgeDocument.content).where(KnowledgeDocument.id == document.id)
        )
        # The generated tsvector is filled: keyword search finds the page-1 price.
        matches = await session.scalar(
            sa.select(sa.func.count())
            .select_from(KnowledgeChunk)
            .where(
                KnowledgeChunk.organisation_id == org,
                KnowledgeChunk.search_vector.op("@@")(sa.func.to_tsquery("simple", "kadai")),
            )
        )
    assert content is None  # the raw upload is not kept once chunks are stored
    assert matches == 1


async def test_markdown_chunks_carry_heading_paths(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    report = await ingest_document(sessions, embedder, org, "policies.md", POLICIES)
    assert report.ok
    chunks = await _chunks(sessions, org)
    titles = {c.title for c in chunks}
    assert "policies › Saanjh Home store policies › Returns and refunds › Refunds" in titles
    refunds = next(c for c in chunks if (c.title or "").endswith("› Refunds"))
    assert refunds.metadata_["heading_path"] == [
        "Saanjh Home store policies",
        "Returns and refunds",
        "Refunds",
    ]
    assert "original payment method" in refunds.content
    assert refunds.page is None


async def test_same_file_again_reuses_the_document_and_embeds_nothing(
    sessions: SessionFactory, org: uuid.UUID
) -> None:
    embedder = CountingEmbedder()
    first = await ingest_document(sessions, embedder, org, "policies.md", POLICIES)
    calls = len(embedder.calls)
    chunk_ids = [c.id for c in await _chunks(sessions, org)]

    again = await ingest_document(
        sessions, embedder, org, "renamed.md", POLICIES, title="Another title"
    )
    assert again.duplicate
    assert again.document_id == first.document_id
    assert again.status is KnowledgeDocumentStatus.READY
    assert len(embedder.calls) == calls
    assert [c.id for c in await _chunks(sessions, org)] == chunk_ids


async def test_a_changed_file_under_the_same_title_is_a_new_document(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    first = await ingest_document(sessions, embedder, org, "p.md", POLICIES, title="Policies")
    changed = POLICIES.replace(b"7 days of delivery", b"10 days of delivery")
    second = await ingest_document(sessions, embedder, org, "p.md", changed, title="Policies")
    assert not second.duplicate
    assert second.document_id != first.document_id
    assert len(await _documents(sessions, org)) == 2


async def test_the_same_file_in_another_organisation_is_its_own_document(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    other = await new_organisation(sessions)
    mine = await ingest_document(sessions, embedder, org, "p.md", POLICIES)
    theirs = await ingest_document(sessions, embedder, other, "p.md", POLICIES)
    assert not theirs.duplicate
    assert theirs.document_id != mine.document_id
    assert {c.organisation_id for c in await _chunks(sessions, other)} == {other}


@pytest.mark.parametrize(
    ("filename", "content", "error"),
    [
        ("prices.docx", b"PK\x03\x04 word document", UnsupportedDocument),
        ("empty.md", b"", EmptyDocument),
        ("blank.txt", b"\n\n   \n", EmptyDocument),
        ("scan.pdf", build_pdf([[], []]), EmptyDocument),
        ("broken.pdf", b"%PDF-1.7\n garbage", KnowledgeInputError),
        ("latin1.txt", "Kadai: 2499 \xa3".encode("latin-1"), KnowledgeInputError),
        ("huge.txt", b"a" * (MAX_DOCUMENT_BYTES + 1), DocumentTooLarge),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    sessions: SessionFactory,
    org: uuid.UUID,
    filename: str,
    content: bytes,
    error: type[Exception],
) -> None:
    embedder = CountingEmbedder()
    with pytest.raises(error):
        await ingest_document(sessions, embedder, org, filename, content)
    assert embedder.calls == []
    assert await _documents(sessions, org) == []
    assert await _chunks(sessions, org) == []


async def test_an_embedding_failure_marks_the_document_failed_and_a_retry_completes_it(
    sessions: SessionFactory, org: uuid.UUID
) -> None:
    failing = CountingEmbedder(fail_on_call=2)
    report = await ingest_document(sessions, failing, org, "p.md", POLICIES, batch_size=4)
    assert report.status is KnowledgeDocumentStatus.FAILED
    assert report.error == "embedding service unavailable"
    [document] = await _documents(sessions, org)
    assert document.status is KnowledgeDocumentStatus.FAILED
    assert document.error == "embedding service unavailable"
    assert 0 < document.progress < 100  # the first batch was reported before the failure
    assert await _chunks(sessions, org) == []  # chunks appear only with "ready"

    retry = await ingest_document(sessions, CountingEmbedder(), org, "p.md", POLICIES)
    assert retry.ok
    assert retry.document_id == document.id
    assert len(await _chunks(sessions, org)) == retry.chunk_count


async def test_background_job_progress_is_visible_to_other_sessions(
    sessions: SessionFactory, org: uuid.UUID
) -> None:
    """The API's path: submit (pending, committed), then the job in the background."""
    prepared = prepare_document("policies.md", POLICIES)
    async with scoped_session(sessions, org) as session:
        document, created = await submit_document(session, org, prepared)
        await session.commit()
    assert created
    assert document.status is KnowledgeDocumentStatus.PENDING

    seen: list[int] = []

    class Watching(HashingEmbedder):
        async def embed_documents(self, texts: list[str]) -> list[list[float]]:
            # What the upload screen would read while the job runs.
            async with sessions() as session:
                seen.append(
                    await session.scalar(
                        sa.select(KnowledgeDocument.progress).where(
                            KnowledgeDocument.id == document.id
                        )
                    )
                    or 0
                )
            return await super().embed_documents(texts)

    report = await run_ingestion_job(sessions, Watching(), org, document.id, batch_size=3)
    assert report.ok
    assert seen[0] == 0
    assert seen == sorted(seen)
    assert 0 < seen[-1] < 100
    [stored] = await _documents(sessions, org)
    assert stored.progress == 100


async def test_two_jobs_for_one_document_store_its_chunks_once(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    prepared = prepare_document("policies.md", POLICIES)
    async with scoped_session(sessions, org) as session:
        document, _ = await submit_document(session, org, prepared)
        await session.commit()
    reports = await asyncio.gather(
        run_ingestion_job(sessions, embedder, org, document.id),
        run_ingestion_job(sessions, embedder, org, document.id),
    )
    assert sorted(r.duplicate for r in reports) == [False, True]
    assert len(await _chunks(sessions, org)) == len(prepared.chunks)


async def test_delete_removes_the_document_and_its_chunks_only(
    sessions: SessionFactory, embedder: HashingEmbedder, org: uuid.UUID
) -> None:
    keep = await ingest_document(sessions, embedder, org, "a.md", POLICIES)
    drop = await ingest_document(
        sessions, embedder, org, "b.txt", (KB_DIR / "store.txt").read_bytes()
    )
    other = await new_organisation(sessions)

    async with scoped_session(sessions, other) as session:
        # Another organisation cannot delete it, even knowing the id.
        assert not await delete_document(session, other, drop.document_id)
        await session.commit()
    async with scoped_session(sessions, org) as session:
        assert await delete_document(session, org, drop.document_id)
        await session.commit()
        remaining = await list_documents(session, org)

    assert [d.id for d in remaining] == [keep.document_id]
    chunks = await _chunks(sessions, org)
    assert {c.document_id for c in chunks} == {keep.document_id}
    assert len(chunks) == keep.chunk_count
