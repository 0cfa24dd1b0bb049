from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_key


class WhatsAppChannel(IdMixin, TimestampMixin, TenantMixin, Base):
    """A WhatsApp Business phone number connected to an organisation.

    ``phone_number_id`` is unique across all tenants: it is how an inbound webhook finds its
    organisation. Secrets are encrypted with :class:`funnel.core.security.crypto.SecretBox` and
    never returned by the API; the ``*_last4`` columns are what the dashboard shows.
    """

    __tablename__ = "whatsapp_channels"

    name: Mapped[str | None] = mapped_column(sa.String(255))
    phone_number_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    waba_id: Mapped[str] = mapped_column(sa.String(32))
    display_phone_number: Mapped[str | None] = mapped_column(sa.String(32))
    graph_version: Mapped[str] = mapped_column(
        sa.String(16), default="v23.0", server_default="v23.0"
    )
    #: Meta's throughput tier for the number, and the send rate the planner holds to.
    throughput_tier: Mapped[str | None] = mapped_column(sa.String(32))
    messages_per_second: Mapped[int] = mapped_column(default=80, server_default="80")
    access_token_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    access_token_last4: Mapped[str] = mapped_column(sa.String(4))
    #: Newest first. Several at once so an app secret rotates without rejected webhooks.
    app_secrets_encrypted: Mapped[list[bytes]] = mapped_column(postgresql.ARRAY(sa.LargeBinary))
    app_secret_last4: Mapped[str] = mapped_column(sa.String(4))
    verify_token_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    verify_token_last4: Mapped[str] = mapped_column(sa.String(4))
    is_connected: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Set when sends must stop, e.g. Graph error 190 (the access token expired or was revoked).
    paused_reason: Mapped[str | None] = mapped_column(sa.String(255))
    paused_at: Mapped[dt.datetime | None]
    #: Meta's test number: sends go only to the few verified recipients.
    is_sandbox: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (
        tenant_key(__tablename__),
        sa.CheckConstraint("messages_per_second > 0", name="messages_per_second_positive"),
        sa.CheckConstraint("cardinality(app_secrets_encrypted) >= 1", name="app_secrets_not_empty"),
    )
