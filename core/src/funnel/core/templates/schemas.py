"""Template requests, validated against Meta's documented limits before anything is sent.

Limits (Meta's template guidelines and the protocol doc §1.10): name lowercase letters, digits
and underscores, at most 512 characters; header text 60; body 1,024; footer 60 without
placeholders; at most 10 buttons, of which at most 2 URL buttons and 1 phone-number button;
button text 25. Every placeholder needs an example, positional placeholders run {{1}}..{{n}}
without gaps, and the body may neither start nor end with a placeholder.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from funnel.core.models.enums import (
    TemplateCategory,
    TemplateParameterFormat,
    TemplatePurpose,
    TemplateStatus,
)

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]


class HeaderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT"] = "TEXT"
    text: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    #: Text headers: one value per placeholder. Media headers: a sample media handle.
    examples: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = []


class ButtonSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["QUICK_REPLY", "URL", "PHONE_NUMBER"]
    text: Annotated[str, StringConstraints(min_length=1, max_length=25)]
    url: Annotated[str, StringConstraints(pattern=r"^https://", max_length=2000)] | None = None
    phone_number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{6,20}$")] | None = None
    example: str | None = None


class TemplateContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: HeaderSpec | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    #: One value per body placeholder, in order (positional) or by name (named).
    body_examples: list[str] | dict[str, str] = []
    footer: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    buttons: list[ButtonSpec] = Field(default=[], max_length=10)

    @model_validator(mode="after")
    def meta_rules(self) -> TemplateContent:
        if self.footer and PLACEHOLDER.search(self.footer):
            raise ValueError("the footer cannot have placeholders")
        stripped = self.body.strip()
        if PLACEHOLDER.match(stripped) or stripped.endswith("}}"):
            raise ValueError("the body cannot start or end with a placeholder")
        kinds = [b.type for b in self.buttons]
        if kinds.count("URL") > 2:
            raise ValueError("at most 2 URL buttons")
        if kinds.count("PHONE_NUMBER") > 1:
            raise ValueError("at most 1 phone-number button")
        for button in self.buttons:
            if button.type == "URL" and not button.url:
                raise ValueError("a URL button needs a url")
            if button.type == "PHONE_NUMBER" and not button.phone_number:
                raise ValueError("a phone-number button needs phone_number")
            if button.url and PLACEHOLDER.search(button.url) and not button.example:
                raise ValueError("a dynamic URL button needs an example")
        if self.header and self.header.format == "TEXT" and not self.header.text:
            raise ValueError("a text header needs text")
        return self


class TemplateCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "visit_reminder",
                    "language": "en",
                    "category": "utility",
                    "purpose": "followup",
                    "content": {
                        "body": "Hi {{1}}, your visit is on {{2}}. Reply to reschedule.",
                        "body_examples": ["Asha", "Monday 5 pm"],
                    },
                }
            ]
        },
    )

    name: TemplateName
    language: Language
    category: TemplateCategory
    parameter_format: TemplateParameterFormat = TemplateParameterFormat.POSITIONAL
    purpose: TemplatePurpose | None = None
    content: TemplateContent


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"purpose": "reengagement"}]}
    )

    category: TemplateCategory | None = None
    parameter_format: TemplateParameterFormat | None = None
    #: Local only (what the send planner uses it for): editable in any status.
    purpose: TemplatePurpose | None = None
    content: TemplateContent | None = None


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    language: str
    category: TemplateCategory
    status: TemplateStatus
    parameter_format: TemplateParameterFormat
    purpose: TemplatePurpose | None
    components: list[dict[str, Any]]
    meta_template_id: str | None
    quality_score: str | None
    rejection_reason: str | None
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    last_synced_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SyncReport(BaseModel):
    updated: int
    imported: int
