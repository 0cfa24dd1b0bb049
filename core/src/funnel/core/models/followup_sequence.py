from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from funnel.core.db.base import Base, IdMixin, TenantMixin, TimestampMixin, enum_type, tenant_key
from funnel.core.models.enums import FollowupTrigger
from funnel.core.models.followup_step import FollowupStep


class FollowupSequence(IdMixin, TimestampMixin, TenantMixin, Base):
    """A configurable follow-up plan, replacing the original's hard-coded 10 min / 3 h / 6 h."""

    __tablename__ = "followup_sequences"

    name: Mapped[str] = mapped_column(sa.String(255))
    trigger: Mapped[FollowupTrigger] = mapped_column(
        enum_type(FollowupTrigger, "trigger"),
        default=FollowupTrigger.NO_REPLY,
        server_default=FollowupTrigger.NO_REPLY.value,
    )
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    steps: Mapped[list[FollowupStep]] = relationship(
        lazy="raise",
        primaryjoin="FollowupSequence.id == foreign(FollowupStep.sequence_id)",
        order_by="FollowupStep.position",
        viewonly=True,
    )

    __table_args__ = (
        tenant_key(__tablename__),
        sa.UniqueConstraint("organisation_id", "name"),
    )
