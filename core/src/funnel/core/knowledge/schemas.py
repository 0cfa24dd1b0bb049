"""Values the knowledge base passes around: ingestion reports, search hits, input errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from funnel.core.models.enums import KnowledgeDocumentStatus, KnowledgeDocumentType

#: ``progress(done, total)``: chunks embedded so far and the document's chunk count.
ProgressCallback = Callable[[int, int], None]


class KnowledgeInputError(ValueError):
    """The upload itself is unusable: nothing was written, and retrying will not help."""


class UnsupportedDocument(KnowledgeInputError):
    pass


class EmptyDocument(KnowledgeInputError):
    pass


class DocumentTooLarge(KnowledgeInputError):
    pass


class DocumentNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class IngestReport:
    document_id: uuid.UUID
    title: str
    doc_type: KnowledgeDocumentType
    status: KnowledgeDocumentStatus
    chunk_count: int
    checksum_sha256: str
    #: True when the same bytes were already stored for this organisation: nothing was embedded.
    duplicate: bool = False
    embedding_model: str | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is KnowledgeDocumentStatus.READY


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One fused result. ``score`` is the 0..1 confidence the grounding threshold applies to."""

    chunk_id: uuid.UUID
    document_id: uuid.UUID
    organisation_id: uuid.UUID
    #: Document title and heading path ("Store policies › Returns › Refunds").
    title: str
    content: str
    page: int | None
    heading_path: tuple[str, ...]
    score: float
    cosine: float
    rrf: float
    vector_rank: int | None
    keyword_rank: int | None
