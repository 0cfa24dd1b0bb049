from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_fk
from funnel.core.models.knowledge_document import KnowledgeDocument

#: Gemini ``gemini-embedding-001`` truncated to 768 dimensions (settings.embeddings.dimensions).
#: A model with another size needs a new column and a re-embed, not a mixed column:
#: ``embedding_model`` records which model produced each vector.
EMBEDDING_DIMENSIONS = 768

# The 'simple' text-search configuration, not 'english': customers write Hindi (Devanagari),
# Hinglish and English, often in one message. 'english' would stem and stop-word Latin-script
# Hindi as if it were English ("main", "hai" mangled or dropped); 'simple' only lowercases, which
# works the same for every language and script. Weighted: title A, content B.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, content), 'B')"
)


class KnowledgeChunk(IdMixin, TimestampMixin, TenantMixin, Base):
    """A retrievable piece of a knowledge document, with its embedding and full-text vector.

    ``search_vector`` is a stored generated column: the database fills it on every insert and
    update, so keyword search cannot silently fail for want of a trigger (as the original's did).
    """

    __tablename__ = "knowledge_chunks"

    document_id: Mapped[uuid.UUID]
    ordinal: Mapped[int]
    title: Mapped[str | None] = mapped_column(sa.String(500))
    content: Mapped[str] = mapped_column(sa.Text)
    #: Heading path for markdown, ``source`` filename, etc. (``metadata`` is reserved by the ORM.)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", default=dict, server_default=sa.text("'{}'::jsonb")
    )
    page: Mapped[int | None]
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    embedding_model: Mapped[str | None] = mapped_column(sa.String(128))
    token_count: Mapped[int | None]
    search_vector: Mapped[str] = mapped_column(
        postgresql.TSVECTOR, sa.Computed(SEARCH_VECTOR_SQL, persisted=True)
    )

    document: Mapped[KnowledgeDocument] = relationship(
        lazy="raise",
        primaryjoin=lambda: KnowledgeDocument.id == foreign(KnowledgeChunk.document_id),
    )

    __table_args__ = (
        tenant_fk("document_id", "knowledge_documents"),
        sa.UniqueConstraint("organisation_id", "document_id", "ordinal"),
        # Approximate nearest neighbour by cosine distance. Retrieval filters by tenant in the
        # same query and sets hnsw.iterative_scan so the filter cannot starve the result.
        sa.Index(
            "ix_knowledge_chunks_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        sa.Index("ix_knowledge_chunks_search_vector", "search_vector", postgresql_using="gin"),
    )
