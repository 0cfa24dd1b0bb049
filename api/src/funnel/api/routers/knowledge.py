"""``/knowledge``: the organisation's documents for retrieval: upload (ingested in the
background), status and progress, delete, and a test search showing what the bot would use."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from funnel.api.deps import ActorDep, ResourcesDep, SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.core.audit.writer import record
from funnel.core.auth.schemas import Principal
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.htl.schemas import DEFAULT_GROUNDING_THRESHOLD
from funnel.core.knowledge import ingest
from funnel.core.knowledge.repository import KnowledgeDocumentRepository
from funnel.core.knowledge.schemas import KnowledgeInputError
from funnel.core.knowledge.search import search
from funnel.core.llm.factory import build_embedder
from funnel.core.models.enums import (
    KnowledgeDocumentStatus,
    KnowledgeDocumentType,
    MembershipRole,
)
from funnel.core.models.knowledge_document import MAX_DOCUMENT_BYTES

router = APIRouter(prefix="/knowledge", tags=["knowledge"])

READ = Access(Level.VIEWER, api_key_scope="knowledge:read")
WRITE = Access(Level.ADMIN, api_key_scope="knowledge:write")
PERMISSIONS: dict[str, Access] = {
    "GET /knowledge/documents": READ,
    "POST /knowledge/documents": Access(
        Level.ADMIN, api_key_scope="knowledge:write", note="202: ingested in the background"
    ),
    "GET /knowledge/documents/{document_id}": READ,
    "DELETE /knowledge/documents/{document_id}": WRITE,
    "POST /knowledge/search": READ,
}

Reader = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER, scope="knowledge:read"))]
Writer = Annotated[Principal, Depends(require_role(MembershipRole.ADMIN, scope="knowledge:write"))]


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


@router.get("/documents", responses=error_responses(401, 403), summary="Documents")
async def list_documents(session: SessionDep, principal: Reader) -> list[DocumentRead]:
    documents = await ingest.list_documents(session, principal.organisation_id)
    return [DocumentRead.model_validate(d) for d in documents]


@router.post(
    "/documents",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 422),
    summary="Upload a PDF, Markdown or text file; poll the document for its status",
)
async def upload_document(
    principal: Writer,
    actor: ActorDep,
    resources: ResourcesDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="PDF, Markdown or plain text")],
    title: Annotated[str | None, Form(max_length=300)] = None,
) -> DocumentRead:
    content = await file.read(MAX_DOCUMENT_BYTES + 1)
    try:
        # Extraction and chunking are CPU work (PDFs): off the event loop.
        prepared = await asyncio.to_thread(
            ingest.prepare_document,
            file.filename or "document",
            content,
            file.content_type,
            title=title,
        )
    except KnowledgeInputError as exc:
        raise ValidationFailed(str(exc)) from exc
    # The pending row is committed in a session of its own before the job is scheduled: the
    # background job runs before the request's session reaches its commit at the edge, and it
    # must find the row (and a failed upload must not roll back an audit entry of another).
    async with ingest.scoped_session(resources.sessionmaker, principal.organisation_id) as own:
        document, created = await ingest.submit_document(
            own,
            principal.organisation_id,
            prepared,
            uploaded_by_user_id=principal.user.id if principal.user is not None else None,
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
    if created or document.status is KnowledgeDocumentStatus.FAILED:
        # Same bytes again: the existing document, re-run only if its earlier run failed.
        background.add_task(
            ingest.run_ingestion_job,
            resources.sessionmaker,
            build_embedder(resources.settings),
            principal.organisation_id,
            document.id,
            prepared=prepared,
        )
    return DocumentRead.model_validate(document)


@router.get(
    "/documents/{document_id}",
    responses=error_responses(401, 403, 404),
    summary="One document: status, progress, chunk count, error",
)
async def get_document(
    document_id: uuid.UUID, session: SessionDep, principal: Reader
) -> DocumentRead:
    document = await KnowledgeDocumentRepository(session, principal.organisation_id).get_by_id(
        document_id
    )
    if document is None:
        raise NotFound("document not found")
    return DocumentRead.model_validate(document)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Delete a document with its chunks and vectors",
)
async def delete_document(
    document_id: uuid.UUID, session: SessionDep, principal: Writer, actor: ActorDep
) -> None:
    if not await ingest.delete_document(session, principal.organisation_id, document_id):
        raise NotFound("document not found")
    await record(
        session, actor, "knowledge.deleted", entity_type="knowledge_document", entity_id=document_id
    )


@router.post(
    "/search",
    responses=error_responses(401, 403, 422),
    summary="What retrieval finds for a question (the chunks the bot would be given)",
)
async def test_search(
    body: SearchRequest,
    session: SessionDep,
    principal: Reader,
    resources: ResourcesDep,
) -> SearchResult:
    hits = await search(
        session,
        principal.organisation_id,
        body.query,
        build_embedder(resources.settings),
        body.top_k,
    )
    threshold = DEFAULT_GROUNDING_THRESHOLD
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
