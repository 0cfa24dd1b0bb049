from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, tenant_fk


class FollowupStep(IdMixin, TimestampMixin, TenantMixin, Base):
    """One nudge of a sequence, ``delay_minutes`` after the previous outbound message.

    Inside the 24-hour window Mouth writes the nudge guided by ``message_hint``; outside it only
    ``template_id`` can be sent, and a step without one is skipped there.
    """

    __tablename__ = "followup_steps"

    sequence_id: Mapped[uuid.UUID]
    position: Mapped[int]
    delay_minutes: Mapped[int]
    message_hint: Mapped[str | None] = mapped_column(sa.Text)
    template_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        tenant_fk("sequence_id", "followup_sequences"),
        tenant_fk("template_id", "templates", ondelete="SET NULL"),
        sa.UniqueConstraint("organisation_id", "sequence_id", "position"),
        sa.CheckConstraint("position >= 1", name="position_positive"),
        sa.CheckConstraint("delay_minutes > 0", name="delay_minutes_positive"),
    )
