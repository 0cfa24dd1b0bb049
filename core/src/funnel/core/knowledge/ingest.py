"""Ingestion: validate and chunk an upload, store it, embed it in batches, mark it ready.

Three steps, so the API and the CLI share everything:

1. :func:`prepare_document` (pure): type, size, extraction, chunking. Every input error is
   raised here, before anything is written.
2. :func:`submit_document` (the caller's session and transaction): the ``pending`` row with
   the raw bytes, or the existing document when this organisation already has these bytes
   (``UNIQUE (organisation_id, checksum_sha256)``).
3. :func:`run_ingestion_job` (its own short transactions): claims the document, embeds the
   chunks batch by batch writing progress to the row, then stores every chunk and ``ready`` in
   one transaction, so search never sees half a document. The API runs it as a background
   task; :func:`ingest_document` runs all three in the foreground (the CLI).

Every status or progress change emits ``knowledge.document_updated`` in the transaction that
writes it, so a dashboard following ``knowledgeDocumentUpdated`` sees pending, processing (with
progress), then ready or failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.events import EventType, emit
from funnel.core.knowledge.chunking import Chunk, ChunkingOptions, chunk_blocks, safe_prefix
from funnel.core.knowledge.extract import MIME_OF, detect_type, extract_blocks
from funnel.core.knowledge.repository import KnowledgeChunkRepository, KnowledgeDocumentRepository
from funnel.core.knowledge.schemas import (
    DocumentTooLarge,
    IngestReport,
    KnowledgeInputError,
    ProgressCallback,
)
from funnel.core.llm.base import Embedder
from funnel.core.models.enums import KnowledgeDocumentStatus, KnowledgeDocumentType
from funnel.core.models.knowledge_chunk import EMBEDDING_DIMENSIONS
from funnel.core.models.knowledge_document import MAX_DOCUMENT_BYTES, KnowledgeDocument

log = logging.getLogger(__name__)

#: A bound on embedding cost per upload: 5,000 chunks is a ~5 MB text, a book, not a FAQ.
MAX_CHUNKS = 5000
DEFAULT_BATCH_SIZE = 64
#: Rows per INSERT when the chunks are stored (each carries a 768-float vector).
_INSERT_BATCH = 500
_MAX_ERROR_CHARS = 2000

SessionFactory = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    filename: str
    title: str
    doc_type: KnowledgeDocumentType
    mime_type: str
    checksum_sha256: str
    content: bytes
    chunks: list[Chunk]


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def prepare_document(
    filename: str,
    content: bytes,
    mime_type: str | None = None,
    *,
    title: str | None = None,
    options: ChunkingOptions | None = None,
) -> PreparedDocument:
    """Validate and chunk an upload; raises :class:`KnowledgeInputError` for an unusable one."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(
            f"the document is {len(content) / 1e6:.1f} MB; the limit is "
            f"{MAX_DOCUMENT_BYTES / 1e6:.0f} MB"
        )
    doc_type = detect_type(filename, mime_type)
    name = PurePath(filename).name or "document"
    chosen_title = safe_prefix((title or PurePath(name).stem or name).strip(), 300)
    if not chosen_title:
        raise KnowledgeInputError("the document needs a title")
    chunks = chunk_blocks(extract_blocks(doc_type, content), chosen_title, options)
    if len(chunks) > MAX_CHUNKS:
        raise DocumentTooLarge(
            f"the document makes {len(chunks)} chunks; the limit is {MAX_CHUNKS}: split it"
        )
    return PreparedDocument(
        filename=safe_prefix(name, 255),
        title=chosen_title,
        doc_type=doc_type,
        mime_type=MIME_OF[doc_type],
        checksum_sha256=checksum(content),
        content=content,
        chunks=chunks,
    )


async def submit_document(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    prepared: PreparedDocument,
    *,
    uploaded_by_user_id: uuid.UUID | None = None,
) -> tuple[KnowledgeDocument, bool]:
    """The ``pending`` document for ``prepared`` and True, or the organisation's existing
    document with the same bytes and False. ``session`` must be scoped; the caller commits."""
    documents = KnowledgeDocumentRepository(session, organisation_id)
    existing = await documents.get_by_checksum(prepared.checksum_sha256)
    if existing is not None:
        return existing, False
    document = KnowledgeDocument(
        title=prepared.title,
        filename=prepared.filename,
        doc_type=prepared.doc_type,
        mime_type=prepared.mime_type,
        checksum_sha256=prepared.checksum_sha256,
        size_bytes=len(prepared.content),
        content=prepared.content,
        status=KnowledgeDocumentStatus.PENDING,
        uploaded_by_user_id=uploaded_by_user_id,
    )
    try:
        # A savepoint: losing the race to a concurrent upload of the same bytes must not
        # poison the caller's transaction.
        async with session.begin_nested():
            await documents.create(document, flush=True)
    except IntegrityError:
        winner = await documents.get_by_checksum(prepared.checksum_sha256)
        if winner is None:
            raise
        return winner, False
    await _announce(session, organisation_id, document.id, KnowledgeDocumentStatus.PENDING, 0)
    return document, True


async def _announce(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    status: KnowledgeDocumentStatus,
    progress: int,
) -> None:
    await emit(
        session,
        organisation_id,
        EventType.KNOWLEDGE_DOCUMENT_UPDATED,
        document_id=document_id,
        status=status.value,
        progress=progress,
    )


@asynccontextmanager
async def scoped_session(
    session_factory: SessionFactory, organisation_id: uuid.UUID
) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        await scope_to_organisation(session, organisation_id)
        yield session


async def run_ingestion_job(
    session_factory: SessionFactory,
    embedder: Embedder,
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    options: ChunkingOptions | None = None,
    prepared: PreparedDocument | None = None,
) -> IngestReport:
    """Embed and store one document; the background task behind an upload.

    Never raises for a failure of the document itself: the row ends ``failed`` with the reason,
    which is what the upload screen shows, and the report says so. A document another job is
    processing, or one already ready, is left alone and reported as it stands.
    """
    if embedder.dimensions != EMBEDDING_DIMENSIONS:
        raise ValueError(
            f"the embedder gives {embedder.dimensions} dimensions; the column holds "
            f"{EMBEDDING_DIMENSIONS}"
        )
    started = time.monotonic()
    async with scoped_session(session_factory, organisation_id) as session:
        documents = KnowledgeDocumentRepository(session, organisation_id)
        claimed = await documents.claim(document_id)
        document = await documents.get_with_content(document_id)
        if claimed:
            await _announce(
                session, organisation_id, document_id, KnowledgeDocumentStatus.PROCESSING, 0
            )
        await session.commit()
    if document is None:
        raise LookupError(f"no knowledge document {document_id} in this organisation")
    if not claimed:
        return _report(document, duplicate=True, started=started)
    try:
        chunks = await _chunks_for(document, prepared, options)
        vectors = await _embed(
            session_factory, embedder, organisation_id, document_id, chunks, batch_size, progress
        )
        async with scoped_session(session_factory, organisation_id) as session:
            await _store(session, organisation_id, document_id, chunks, vectors, embedder.model)
            document = await KnowledgeDocumentRepository(session, organisation_id).get_with_content(
                document_id
            )
            await session.commit()
    except Exception as exc:
        log.warning(
            "knowledge.ingest_failed",
            extra={"organisation_id": str(organisation_id), "document_id": str(document_id)},
            exc_info=not isinstance(exc, KnowledgeInputError),
        )
        document = await _mark_failed(session_factory, organisation_id, document_id, exc)
        return _report(document, started=started)
    assert document is not None  # claimed above, in this organisation
    log.info(
        "knowledge.ingested",
        extra={
            "organisation_id": str(organisation_id),
            "document_id": str(document_id),
            "chunks": len(chunks),
            "model": embedder.model,
        },
    )
    return _report(document, started=started, model=embedder.model)


async def ingest_document(
    session_factory: SessionFactory,
    embedder: Embedder,
    organisation_id: uuid.UUID,
    filename: str,
    content: bytes,
    mime_type: str | None = None,
    *,
    title: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    options: ChunkingOptions | None = None,
) -> IngestReport:
    """Prepare, submit and process one upload in the foreground (the CLI's path).

    Raises :class:`KnowledgeInputError` before writing anything for an unusable file. The same
    bytes again return the existing document untouched (unless an earlier run failed, which
    is retried); changed bytes, even under the same title, make a new document.
    """
    started = time.monotonic()
    prepared = await asyncio.to_thread(
        prepare_document, filename, content, mime_type, title=title, options=options
    )
    async with scoped_session(session_factory, organisation_id) as session:
        document, created = await submit_document(session, organisation_id, prepared)
        await session.commit()
    if not created and document.status is not KnowledgeDocumentStatus.FAILED:
        return _report(document, duplicate=True, started=started)
    return await run_ingestion_job(
        session_factory,
        embedder,
        organisation_id,
        document.id,
        batch_size=batch_size,
        progress=progress,
        options=options,
        prepared=prepared,
    )


async def delete_document(
    session: AsyncSession, organisation_id: uuid.UUID, document_id: uuid.UUID
) -> bool:
    """Delete a document with its chunks (and so their vectors); the caller commits."""
    await KnowledgeChunkRepository(session, organisation_id).delete_for_document(document_id)
    return await KnowledgeDocumentRepository(session, organisation_id).delete_by_id(document_id)


async def list_documents(
    session: AsyncSession, organisation_id: uuid.UUID
) -> Sequence[KnowledgeDocument]:
    return await KnowledgeDocumentRepository(session, organisation_id).list_documents()


# ---------------------------------------------------------------------------- the job's steps


async def _chunks_for(
    document: KnowledgeDocument,
    prepared: PreparedDocument | None,
    options: ChunkingOptions | None,
) -> list[Chunk]:
    if prepared is not None and prepared.checksum_sha256 == document.checksum_sha256:
        return prepared.chunks
    if document.content is None:
        raise KnowledgeInputError("the upload's bytes are gone; upload the file again")
    # Parsing a large PDF takes seconds of CPU: off the event loop of the API process.
    again = await asyncio.to_thread(
        prepare_document,
        document.filename or document.title,
        document.content,
        document.mime_type,
        title=document.title,
        options=options,
    )
    return again.chunks


async def _embed(
    session_factory: SessionFactory,
    embedder: Embedder,
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    chunks: list[Chunk],
    batch_size: int,
    progress: ProgressCallback | None,
) -> list[list[float]]:
    vectors: list[list[float]] = []
    total = len(chunks)
    for start in range(0, total, batch_size):
        batch = chunks[start : start + batch_size]
        vectors.extend(await embedder.embed_documents([c.embedding_text for c in batch]))
        # 99 at most: 100 is written with the chunks and ``ready``, in one transaction.
        percent = min(99, len(vectors) * 100 // total)
        async with scoped_session(session_factory, organisation_id) as session:
            await KnowledgeDocumentRepository(session, organisation_id).set_progress(
                document_id, percent
            )
            await _announce(
                session, organisation_id, document_id, KnowledgeDocumentStatus.PROCESSING, percent
            )
            await session.commit()
        if progress is not None:
            progress(len(vectors), total)
    return vectors


async def _store(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    chunks: list[Chunk],
    vectors: list[list[float]],
    model: str,
) -> None:
    chunk_rows = KnowledgeChunkRepository(session, organisation_id)
    # A document is reprocessed only after a failure, which stored nothing; this keeps a
    # manual re-run from ever doubling a document's chunks all the same.
    await chunk_rows.delete_for_document(document_id)
    rows: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "document_id": document_id,
            "ordinal": chunk.ordinal,
            "title": chunk.title,
            "content": chunk.content,
            "metadata_": chunk.metadata,
            "page": chunk.page,
            "embedding": vector,
            "embedding_model": model,
            "token_count": chunk.token_estimate,
        }
        for chunk, vector in zip(chunks, vectors, strict=True)
    ]
    for start in range(0, len(rows), _INSERT_BATCH):
        await chunk_rows.insert_many(rows[start : start + _INSERT_BATCH])
    await KnowledgeDocumentRepository(session, organisation_id).update_where(
        KnowledgeDocumentRepository.model.id == document_id,
        status=KnowledgeDocumentStatus.READY,
        progress=100,
        chunk_count=len(rows),
        error=None,
        content=None,
        processed_at=dt.datetime.now(dt.UTC),
    )
    await _announce(session, organisation_id, document_id, KnowledgeDocumentStatus.READY, 100)


async def _mark_failed(
    session_factory: SessionFactory,
    organisation_id: uuid.UUID,
    document_id: uuid.UUID,
    exc: Exception,
) -> KnowledgeDocument:
    message = safe_prefix(str(exc) or type(exc).__name__, _MAX_ERROR_CHARS)
    async with scoped_session(session_factory, organisation_id) as session:
        documents = KnowledgeDocumentRepository(session, organisation_id)
        await documents.update_where(
            KnowledgeDocumentRepository.model.id == document_id,
            status=KnowledgeDocumentStatus.FAILED,
            error=message,
        )
        document = await documents.get_by_id(document_id)
        if document is not None:
            await _announce(
                session,
                organisation_id,
                document_id,
                KnowledgeDocumentStatus.FAILED,
                document.progress,
            )
        await session.commit()
    if document is None:  # deleted while it was being processed
        raise LookupError(f"knowledge document {document_id} was deleted during ingestion")
    return document


def _report(
    document: KnowledgeDocument,
    *,
    started: float,
    duplicate: bool = False,
    model: str | None = None,
) -> IngestReport:
    return IngestReport(
        document_id=document.id,
        title=document.title,
        doc_type=document.doc_type,
        status=document.status,
        chunk_count=document.chunk_count,
        checksum_sha256=document.checksum_sha256,
        duplicate=duplicate,
        embedding_model=model,
        error=document.error,
        seconds=time.monotonic() - started,
    )
