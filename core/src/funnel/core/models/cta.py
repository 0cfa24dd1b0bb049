from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_key
from funnel.core.models.enums import CtaType


class Cta(IdMixin, TimestampMixin, TenantMixin, Base):
    """A call-to-action the bot may offer. Deleting one is a soft delete (``deleted_at``):
    conversations that offered it keep pointing at it."""

    __tablename__ = "ctas"

    type: Mapped[CtaType] = mapped_column(enum_type(CtaType, "type"))
    name: Mapped[str] = mapped_column(sa.String(255))
    #: When the Brain should offer it, in the owner's words.
    description: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    #: WhatsApp limits a CTA-URL button's text to 20 characters.
    button_text: Mapped[str | None] = mapped_column(sa.String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    deleted_at: Mapped[dt.datetime | None]

    __table_args__ = (
        tenant_key(__tablename__),
        sa.Index(
            "uq_ctas_organisation_id_name",
            "organisation_id",
            "name",
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
        ),
    )
