from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from funnel.core.db.base import Base, IdMixin, TimestampMixin


def _default_business_hours() -> dict[str, Any]:
    # Local times in the organisation's timezone; an empty list means closed that day.
    weekday = [{"start": "09:00", "end": "18:00"}]
    return {
        "mon": weekday, "tue": weekday, "wed": weekday, "thu": weekday, "fri": weekday,
        "sat": [], "sun": [],
    }  # fmt: skip


def _default_followup_policy() -> dict[str, Any]:
    return {"max_per_24h": 2, "max_total": 4, "min_gap_minutes": 60}


def _default_data_retention() -> dict[str, Any]:
    return {"webhook_receipt_days": 14, "message_days": 365}


class Organisation(IdMixin, TimestampMixin, Base):
    """The tenant. Row-level security scopes this table by ``id`` rather than organisation_id."""

    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(sa.String(255))
    slug: Mapped[str] = mapped_column(sa.String(63), unique=True)
    #: The persona or business name used in prompts; falls back to ``name`` when empty.
    business_name: Mapped[str | None] = mapped_column(sa.String(255))
    business_description: Mapped[str | None] = mapped_column(sa.Text)
    persona_prompt: Mapped[str | None] = mapped_column(sa.Text)
    #: The owner's sales script, injected into the Brain and Mouth prompts.
    flow_prompt: Mapped[str | None] = mapped_column(sa.Text)
    #: IANA name; every local time below (business hours, quiet hours, analytics days) is in it.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    default_language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")
    reply_word_limit: Mapped[int] = mapped_column(default=80, server_default="80")
    business_hours: Mapped[dict[str, Any]] = mapped_column(
        default=_default_business_hours, server_default=sa.text("'{}'::jsonb")
    )
    #: ``{"start": "21:00", "end": "09:00"}`` local: no proactive sends (follow-ups) inside it.
    quiet_hours: Mapped[dict[str, Any]] = mapped_column(
        default=lambda: {"start": "21:00", "end": "09:00"}, server_default=sa.text("'{}'::jsonb")
    )
    followup_policy: Mapped[dict[str, Any]] = mapped_column(
        default=_default_followup_policy, server_default=sa.text("'{}'::jsonb")
    )
    data_retention: Mapped[dict[str, Any]] = mapped_column(
        default=_default_data_retention, server_default=sa.text("'{}'::jsonb")
    )
    #: Per-stage model overrides (``{"brain": "gemini-2.5-pro"}``); settings give the defaults.
    llm_models: Mapped[dict[str, Any]] = mapped_column(
        default=dict, server_default=sa.text("'{}'::jsonb")
    )
    #: Domains Mouth may put in a link; anything else is stripped by the policy stage.
    allowed_link_domains: Mapped[list[str]] = mapped_column(
        postgresql.ARRAY(sa.String(253)), default=list, server_default=sa.text("'{}'")
    )
    #: Whether raising human attention also switches the conversation to human mode.
    pause_bot_on_attention: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: Whether the customer is told that a person will follow up when the bot hands off.
    notify_customer_on_handoff: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: A human takeover hands back to the bot after this much silence from the human.
    auto_release_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    __table_args__ = (
        sa.CheckConstraint("reply_word_limit BETWEEN 5 AND 1000", name="reply_word_limit_range"),
        sa.CheckConstraint("auto_release_minutes > 0", name="auto_release_minutes_positive"),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]*$'", name="slug_format"),
    )
