"""Knowledge operations as the API offers them (REST's ``/knowledge`` and GraphQL alike):
upload (the pending row committed at once, ingestion left to the caller to run after the
response), one document, delete with an audit entry, and the test search with the grounding
verdict the bot would reach."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.knowledge import ingest
from funnel.core.knowledge.repository import KnowledgeDocumentRepository
from funnel.core.knowledge.schemas import IngestReport, KnowledgeInputError
from funnel.core.knowledge.search import search
from funnel.core.llm.base import Embedder
from funnel.core.models.enums import KnowledgeDocumentStatus, KnowledgeDocumentType
from funnel.core.models.knowledge_document import KnowledgeDocument


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    filename: str | None
    doc_type: KnowledgeDocumentType
    size_bytes: int
    status: KnowledgeDocumentStatus
    #: 0..100 while processing.
    progress: int
    chunk_count: int
    error: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "What is the refund policy?", "top_k": 5}]},
    )

    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    top_k: Annotated[int, Field(ge=1, le=20)] = 5


class SearchHitRead(BaseModel):
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    title: str
    content: str
    page: int | None
    #: 0..1 confidence; the bot states facts only from chunks at or above ``threshold``.
    score: float


class SearchResult(BaseModel):
    hits: list[SearchHitRead]
    #: True when the best hit reaches the grounding threshold the bot uses.
    grounded: bool
    threshold: float


@dataclass(frozen=True, slots=True)
class Upload:
    document: DocumentRead
    #: The ingestion to run after the response (None: the same bytes are already in hand).
    job: Callable[[], Awaitable[IngestReport]] | None


async def upload_document(
    session_factory: ingest.SessionFactory,
    embedder: Embedder,
    actor: Actor,
    *,
    filename: str,
    content: bytes,
    content_type: str | None,
    title: str | None,
    uploaded_by_user_id: uuid.UUID | None,
) -> Upload:
    """Validate and chunk ``content``, commit its pending row (with the audit entry) in a
    session of its own, and return the job that embeds it.

    The row is committed before the job is scheduled: a background job runs before the
    request's own session reaches its commit at the edge, and it must find the row (and a
    failed upload must not roll back another's audit entry). Uploading the same bytes again
    answers with the existing document, re-run only if its earlier run failed.
    """
    organisation_id = actor.organisation_id
    try:
        # Extraction and chunking are CPU work (PDFs): off the event loop.
        prepared = await asyncio.to_thread(
            ingest.prepare_document, filename or "document", content, content_type, title=title
        )
    except KnowledgeInputError as exc:
        raise ValidationFailed(str(exc)) from exc
    async with ingest.scoped_session(session_factory, organisation_id) as own:
        document, created = await ingest.submit_document(
            own, organisation_id, prepared, uploaded_by_user_id=uploaded_by_user_id
        )
        if created:
            await record(
                own,
                actor,
                "knowledge.uploaded",
                entity_type="knowledge_document",
                entity_id=document.id,
                changes={"title": document.title},
            )
        await own.commit()
        read = DocumentRead.model_validate(document)
    job: Callable[[], Awaitable[IngestReport]] | None = None
    if created or document.status is KnowledgeDocumentStatus.FAILED:

        async def job() -> IngestReport:
            return await ingest.run_ingestion_job(
                session_factory, embedder, organisation_id, read.id, prepared=prepared
            )

    return Upload(document=read, job=job)


async def list_documents(session: AsyncSession, organisation_id: uuid.UUID) -> list[DocumentRead]:
    documents = await ingest.list_documents(session, organisation_id)
    return [DocumentRead.model_validate(d) for d in documents]


async def get_document(
    session: AsyncSession, organisation_id: uuid.UUID, document_id: uuid.UUID
) -> DocumentRead:
    document: KnowledgeDocument | None = await KnowledgeDocumentRepository(
        session, organisation_id
    ).get_by_id(document_id)
    if document is None:
        raise NotFound("document not found")
    return DocumentRead.model_validate(document)


async def delete_document(session: AsyncSession, actor: Actor, document_id: uuid.UUID) -> None:
    """The document with its chunks and vectors, and an audit entry."""
    if not await ingest.delete_document(session, actor.organisation_id, document_id):
        raise NotFound("document not found")
    await record(
        session, actor, "knowledge.deleted", entity_type="knowledge_document", entity_id=document_id
    )


async def preview_search(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    embedder: Embedder,
    request: SearchRequest,
    *,
    threshold: float,
) -> SearchResult:
    """What retrieval finds for a question: the chunks the bot would be given, with scores.

    ``threshold`` must be the one the bot uses (``Settings.grounding_threshold``, which depends
    on the embedder), so "grounded" here means what it means to the bot.
    """
    hits = await search(session, organisation_id, request.query, embedder, request.top_k)
    return SearchResult(
        hits=[
            SearchHitRead(
                chunk_id=h.chunk_id,
                document_id=h.document_id,
                title=h.title,
                content=h.content,
                page=h.page,
                score=h.score,
            )
            for h in hits
        ],
        grounded=bool(hits) and hits[0].score >= threshold,
        threshold=threshold,
    )
