from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_key

#: The largest media stored in the database. WhatsApp allows 16 MB for audio and video and
#: 100 MB for documents; anything above this stays at Meta (``whatsapp_media_id``) and is
#: fetched on demand instead of bloating the table and its backups.
MAX_STORED_MEDIA_BYTES = 16 * 1024 * 1024


class MediaObject(IdMixin, TimestampMixin, TenantMixin, Base):
    """A media file received or sent, with our own copy of the bytes when small enough
    (Meta's media URLs expire after minutes, its media ids after 30 days)."""

    __tablename__ = "media_objects"

    whatsapp_media_id: Mapped[str | None] = mapped_column(sa.String(255))
    mime_type: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    downloaded_at: Mapped[dt.datetime | None]

    __table_args__ = (
        tenant_key(__tablename__),
        sa.CheckConstraint(
            f"content IS NULL OR octet_length(content) <= {MAX_STORED_MEDIA_BYTES}",
            name="content_size_limit",
        ),
        sa.Index(
            "ix_media_objects_organisation_id_whatsapp_media_id",
            "organisation_id",
            "whatsapp_media_id",
        ),
    )
