from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_key
from funnel.core.models.enums import KnowledgeDocumentStatus, KnowledgeDocumentType

#: Uploads above this are refused; the raw file is kept only until ingestion finishes.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class KnowledgeDocument(IdMixin, TimestampMixin, TenantMixin, Base):
    """An uploaded knowledge-base file, chunked and embedded in the background.

    ``UNIQUE (organisation_id, checksum_sha256)``: uploading the same file twice is a no-op.
    """

    __tablename__ = "knowledge_documents"

    title: Mapped[str] = mapped_column(sa.String(500))
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    doc_type: Mapped[KnowledgeDocumentType] = mapped_column(
        enum_type(KnowledgeDocumentType, "doc_type")
    )
    mime_type: Mapped[str | None] = mapped_column(sa.String(255))
    checksum_sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    #: The uploaded bytes, waiting for ingestion; cleared once the chunks are stored.
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    status: Mapped[KnowledgeDocumentStatus] = mapped_column(
        enum_type(KnowledgeDocumentStatus, "status"),
        default=KnowledgeDocumentStatus.PENDING,
        server_default=KnowledgeDocumentStatus.PENDING.value,
    )
    error: Mapped[str | None] = mapped_column(sa.Text)
    chunk_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Ingestion progress in percent, for the upload screen.
    progress: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    processed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        tenant_key(__tablename__),
        sa.UniqueConstraint("organisation_id", "checksum_sha256"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        sa.CheckConstraint(
            f"size_bytes >= 0 AND size_bytes <= {MAX_DOCUMENT_BYTES}", name="size_limit"
        ),
        sa.CheckConstraint(
            f"content IS NULL OR octet_length(content) <= {MAX_DOCUMENT_BYTES}",
            name="content_size_limit",
        ),
    )
