"""The knowledge base: documents with their ingestion status and progress, upload, delete and
the test search, through :mod:`funnel.core.knowledge.service` (what REST's ``/knowledge``
calls).

Uploads carry the file as base64 in a variable (``contentBase64``), not as a GraphQL multipart
request: the dashboard's client sends plain JSON, and multipart over GraphQL needs CSRF
handling of its own. The size limit is the same as REST's (checked on the decoded bytes).
Ingestion runs after the response, exactly as REST's 202; ``knowledgeDocumentUpdated`` reports
its status and progress as they change (or poll ``knowledgeDocument``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from graphql import GraphQLError
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql._common import ADMIN, VIEWER, Deleted, actor, parse_uuid
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    FieldProblem,
    ForbiddenError,
    LimitError,
    NotFoundError,
    limit_error,
)
from funnel.api.graphql.live import stream
from funnel.api.graphql.permissions import IsAuthenticated
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.events import Event, EventType
from funnel.core.knowledge import service
from funnel.core.knowledge.service import DocumentRead, SearchRequest
from funnel.core.llm.factory import build_embedder
from funnel.core.models.enums import KnowledgeDocumentStatus as KnowledgeDocumentStatusEnum
from funnel.core.models.enums import KnowledgeDocumentType as KnowledgeDocumentTypeEnum
from funnel.core.models.knowledge_document import MAX_DOCUMENT_BYTES

KnowledgeDocumentStatus = strawberry.enum(
    KnowledgeDocumentStatusEnum, name="KnowledgeDocumentStatus"
)
KnowledgeDocumentType = strawberry.enum(KnowledgeDocumentTypeEnum, name="KnowledgeDocumentType")
#: Base64 of the largest accepted document, with padding.
_MAX_BASE64 = (MAX_DOCUMENT_BYTES + 2) // 3 * 4


@strawberry.type
class KnowledgeDocument:
    id: strawberry.ID
    title: str
    filename: str | None
    doc_type: KnowledgeDocumentType  # type: ignore[valid-type]
    size_bytes: int
    status: KnowledgeDocumentStatus  # type: ignore[valid-type]
    #: 0..100 while processing.
    progress: int
    chunk_count: int
    error: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None

    @classmethod
    def from_read(cls, d: DocumentRead) -> KnowledgeDocument:
        return cls(
            id=strawberry.ID(str(d.id)),
            title=d.title,
            filename=d.filename,
            doc_type=d.doc_type,
            size_bytes=d.size_bytes,
            status=d.status,
            progress=d.progress,
            chunk_count=d.chunk_count,
            error=d.error,
            created_at=d.created_at,
            processed_at=d.processed_at,
        )


@strawberry.type
class KnowledgeChunk:
    chunk_id: strawberry.ID
    document_id: strawberry.ID
    title: str
    content: str
    page: int | None
    #: 0..1 confidence; the bot states facts only from chunks at or above the threshold.
    score: float


@strawberry.type
class KnowledgeSearchResult:
    hits: list[KnowledgeChunk]
    #: True when the best hit reaches the grounding threshold the bot uses.
    grounded: bool
    threshold: float


UploadKnowledgeResult = Annotated[
    KnowledgeDocument | LimitError | ForbiddenError,
    strawberry.union("UploadKnowledgeResult"),
]
DeleteKnowledgeResult = Annotated[
    Deleted | NotFoundError | ForbiddenError, strawberry.union("DeleteKnowledgeResult")
]


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=VIEWER, description="Documents, newest first, with ingestion status."
    )
    async def knowledge_documents(self, info: Info) -> list[KnowledgeDocument]:
        principal = info.context.require_principal()
        documents = await service.list_documents(info.context.session, principal.organisation_id)
        return [KnowledgeDocument.from_read(d) for d in documents]

    @strawberry.field(
        permission_classes=VIEWER, description="One document (poll it while it is processed)."
    )
    async def knowledge_document(self, info: Info, id: strawberry.ID) -> KnowledgeDocument | None:
        document_id = parse_uuid(id)
        if document_id is None:
            return None
        principal = info.context.require_principal()
        try:
            document = await service.get_document(
                info.context.session, principal.organisation_id, document_id
            )
        except NotFound:
            return None
        return KnowledgeDocument.from_read(document)

    @strawberry.field(
        permission_classes=VIEWER,
        description="What retrieval finds for a question: the chunks the bot would be given.",
    )
    async def knowledge_search(
        self, info: Info, query: str, top_k: int = 5
    ) -> KnowledgeSearchResult:
        try:
            request = SearchRequest(query=query, top_k=top_k)
        except PydanticValidationError as exc:
            error = exc.errors()[0]
            raise GraphQLError(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}",
                extensions={"code": "VALIDATION_FAILED"},
            ) from exc
        principal = info.context.require_principal()
        result = await service.preview_search(
            info.context.session,
            principal.organisation_id,
            build_embedder(info.context.resources.settings),
            request,
            threshold=info.context.resources.settings.grounding_threshold,
        )
        return KnowledgeSearchResult(
            hits=[
                KnowledgeChunk(
                    chunk_id=strawberry.ID(str(h.chunk_id)),
                    document_id=strawberry.ID(str(h.document_id)),
                    title=h.title,
                    content=h.content,
                    page=h.page,
                    score=h.score,
                )
                for h in result.hits
            ],
            grounded=result.grounded,
            threshold=result.threshold,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description=(
            "Upload a PDF, Markdown or text file as base64; it is ingested after the response "
            "(status PENDING, then PROCESSING with progress, then READY or FAILED). The same "
            "bytes again answer with the existing document."
        ),
    )
    async def upload_knowledge_document(
        self,
        info: Info,
        filename: str,
        content_base64: str,
        content_type: str | None = None,
        title: str | None = None,
    ) -> UploadKnowledgeResult:
        def refused(field: str, message: str) -> LimitError:
            info.context.failed = True
            return LimitError(
                message=message,
                code="validation_failed",
                problems=[FieldProblem(field=field, message=message)],
            )

        if len(content_base64) > _MAX_BASE64:
            return refused(
                "contentBase64", f"the document is larger than {MAX_DOCUMENT_BYTES // 10**6} MB"
            )
        if title is not None and len(title) > 300:
            return refused("title", "the title is at most 300 characters")
        try:
            content = base64.b64decode(content_base64, validate=True)
        except (binascii.Error, ValueError):
            return refused("contentBase64", "contentBase64 is not valid base64")
        principal = info.context.require_principal()
        resources = info.context.resources
        try:
            upload = await service.upload_document(
                resources.sessionmaker,
                build_embedder(resources.settings),
                actor(info),
                filename=filename[:255],
                content=content,
                content_type=content_type,
                title=title,
                uploaded_by_user_id=principal.user.id if principal.user is not None else None,
            )
        except ValidationFailed as exc:
            info.context.failed = True
            return limit_error(exc)
        if upload.job is not None:
            background = info.context.background_tasks
            assert background is not None, "an HTTP operation always has background tasks"
            background.add_task(upload.job)
        return KnowledgeDocument.from_read(upload.document)

    @strawberry.mutation(
        permission_classes=ADMIN, description="Delete a document with its chunks and vectors."
    )
    async def delete_knowledge_document(
        self, info: Info, id: strawberry.ID
    ) -> DeleteKnowledgeResult:
        document_id = parse_uuid(id)
        try:
            if document_id is None:
                raise NotFound("document not found")
            await service.delete_document(info.context.session, actor(info), document_id)
        except NotFound as exc:
            info.context.failed = True
            return NotFoundError(message=exc.message, code=exc.code)
        return Deleted(id=id)


@strawberry.type(description="Ingestion moved on: pending, processing, then ready or failed.")
class KnowledgeDocumentEvent:
    document_id: strawberry.ID
    status: KnowledgeDocumentStatus  # type: ignore[valid-type]
    #: 0..100; 100 once ready.
    progress: int

    @classmethod
    def from_event(cls, event: Event) -> KnowledgeDocumentEvent | None:
        document_id, status = event.ids.get("document_id"), event.ids.get("status")
        progress = event.ids.get("progress")
        if not isinstance(document_id, str) or not isinstance(status, str):
            return None
        try:
            return cls(
                document_id=strawberry.ID(document_id),
                status=KnowledgeDocumentStatusEnum(status),
                progress=progress if isinstance(progress, int) else 0,
            )
        except ValueError:
            return None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Ingestion status and progress of the organisation's knowledge documents.",
    )
    async def knowledge_document_updated(
        self, info: Info
    ) -> AsyncGenerator[KnowledgeDocumentEvent, None]:
        async for event in stream(info, [EventType.KNOWLEDGE_DOCUMENT_UPDATED]):
            payload = KnowledgeDocumentEvent.from_event(event)
            if payload is not None:
                yield payload
