"""``/knowledge``: the organisation's documents for retrieval: upload (ingested in the
background), status and progress, delete, and a test search showing what the bot would use.
Thin over :mod:`funnel.core.knowledge.service`, which GraphQL calls too."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, UploadFile, status

from funnel.api.deps import ActorDep, ResourcesDep, SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.core.auth.schemas import Principal
from funnel.core.knowledge import service
from funnel.core.knowledge.service import DocumentRead, SearchRequest, SearchResult
from funnel.core.llm.factory import build_embedder
from funnel.core.models.enums import MembershipRole
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


@router.get("/documents", responses=error_responses(401, 403), summary="Documents")
async def list_documents(session: SessionDep, principal: Reader) -> list[DocumentRead]:
    return await service.list_documents(session, principal.organisation_id)


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
    upload = await service.upload_document(
        resources.sessionmaker,
        build_embedder(resources.settings),
        actor,
        filename=file.filename or "document",
        content=await file.read(MAX_DOCUMENT_BYTES + 1),
        content_type=file.content_type,
        title=title,
        uploaded_by_user_id=principal.user.id if principal.user is not None else None,
    )
    if upload.job is not None:
        background.add_task(upload.job)
    return upload.document


@router.get(
    "/documents/{document_id}",
    responses=error_responses(401, 403, 404),
    summary="One document: status, progress, chunk count, error",
)
async def get_document(
    document_id: uuid.UUID, session: SessionDep, principal: Reader
) -> DocumentRead:
    return await service.get_document(session, principal.organisation_id, document_id)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Delete a document with its chunks and vectors",
)
async def delete_document(
    document_id: uuid.UUID, session: SessionDep, _: Writer, actor: ActorDep
) -> None:
    await service.delete_document(session, actor, document_id)


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
    return await service.preview_search(
        session,
        principal.organisation_id,
        build_embedder(resources.settings),
        body,
        threshold=resources.settings.grounding_threshold,
    )
