from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from funnel.core.auth.schemas import validate_timezone

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STAGES = ("eyes", "brain", "mouth", "memory")


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    business_name: str | None
    business_description: str | None
    timezone: str
    default_language: str
    is_active: bool
    created_at: dt.datetime


class OrganisationUpdate(BaseModel):
    """Profile fields. Only those given change (the original's PATCH required every field)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Acme"}]})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    business_name: str | None = Field(default=None, max_length=255)
    business_description: str | None = Field(default=None, max_length=10_000)


class TimeRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(examples=["09:00"])
    end: str = Field(examples=["18:00"])

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("HH:MM, 24-hour")
        return value


class FollowupPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_per_24h: int = Field(ge=0, le=10)
    max_total: int = Field(ge=0, le=50)
    min_gap_minutes: int = Field(ge=1, le=10_080)


class OrganisationSettings(BaseModel):
    """Everything the pipeline reads from the organisation: persona, script, hours, policies."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    business_name: str | None
    business_description: str | None
    persona_prompt: str | None
    flow_prompt: str | None
    timezone: str
    default_language: str
    reply_word_limit: int
    business_hours: dict[str, list[TimeRange]]
    quiet_hours: TimeRange | None
    followup_policy: FollowupPolicy | None
    llm_models: dict[str, str]
    allowed_link_domains: list[str]
    pause_bot_on_attention: bool
    #: Whether the customer is told a person will follow up when the bot hands off.
    notify_customer_on_handoff: bool
    auto_release_minutes: int

    @model_validator(mode="before")
    @classmethod
    def _tolerate_empty(cls, data: Any) -> Any:
        # Rows created by raw SQL get '{}' defaults; show them as "not set" rather than fail.
        if hasattr(data, "__table__"):
            values = {c.key: getattr(data, c.key) for c in data.__table__.columns}
            values["quiet_hours"] = values.get("quiet_hours") or None
            values["followup_policy"] = values.get("followup_policy") or None
            values["business_hours"] = values.get("business_hours") or {}
            return values
        return data


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"flow_prompt": "Qualify, then offer a demo."}]},
    )

    name: str | None = Field(default=None, min_length=1, max_length=255)
    business_name: str | None = Field(default=None, max_length=255)
    business_description: str | None = Field(default=None, max_length=10_000)
    persona_prompt: str | None = Field(default=None, max_length=10_000)
    flow_prompt: str | None = Field(default=None, max_length=20_000)
    timezone: str | None = Field(default=None, max_length=64)
    default_language: str | None = Field(default=None, min_length=2, max_length=16)
    reply_word_limit: int | None = Field(default=None, ge=5, le=1000)
    business_hours: (
        dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[TimeRange]] | None
    ) = None
    quiet_hours: TimeRange | None = None
    followup_policy: FollowupPolicy | None = None
    llm_models: dict[Literal["eyes", "brain", "mouth", "memory"], str] | None = None
    allowed_link_domains: list[str] | None = Field(default=None, max_length=50)
    pause_bot_on_attention: bool | None = None
    notify_customer_on_handoff: bool | None = None
    auto_release_minutes: int | None = Field(default=None, ge=1, le=10_080)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return validate_timezone(value) if value is not None else None

    @field_validator("llm_models")
    @classmethod
    def _models(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and any(not m or len(m) > 100 for m in value.values()):
            raise ValueError("model names are 1 to 100 characters")
        return value

    @field_validator("allowed_link_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = sorted({d.strip().lower() for d in value if d.strip()})
        if any(len(d) > 253 or " " in d or "/" in d for d in cleaned):
            raise ValueError("bare domain names only")
        return cleaned


class OrganisationPage(BaseModel):
    items: list[OrganisationRead]
    next_cursor: str | None
