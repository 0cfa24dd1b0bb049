"""Request and response models for leads.

``LeadUpdate`` is a real PATCH: every field defaults to ``None`` *and* is told apart from an
absent field with ``model_fields_set``. The original declared ``Optional[str]`` without a
default, which Pydantic v2 treats as required, so a partial update was a 422.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from funnel.core.models.enums import ConversationStage, IntentLevel, OptOutSource, Sentiment

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
#: A plausible address; deliverability is not ours to check.
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
#: E.164 digits without the plus, as WhatsApp reports ``wa_id``.
WA_ID = re.compile(r"^[1-9][0-9]{7,14}$")


class LeadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel_id: uuid.UUID
    #: The phone number: shown to the organisation's own members only (RLS keeps it there).
    wa_id: str | None
    bsuid: str | None
    name: str | None
    email: str | None
    company: str | None
    language: str | None
    tags: list[str]
    stage: ConversationStage
    intent_level: IntentLevel
    sentiment: Sentiment
    opted_out: bool
    opted_out_at: dt.datetime | None
    opt_out_source: OptOutSource | None
    last_inbound_at: dt.datetime | None
    attributes: dict[str, Any]
    facts: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPage(BaseModel):
    items: list[LeadRead]
    #: Pass back as ``cursor`` for the next page; ``None`` on the last page.
    next_cursor: str | None


class LeadFilters(BaseModel):
    stage: ConversationStage | None = None
    intent_level: IntentLevel | None = None
    sentiment: Sentiment | None = None
    tag: str | None = None
    opted_out: bool | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    #: Case-insensitive substring of the name, phone number or email.
    search: str | None = None


class LeadUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Asha Rao", "company": "Rao Traders"}]},
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] | None = None
    email: Email | None = None
    company: Annotated[str, StringConstraints(max_length=255)] | None = None
    language: (
        Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")] | None
    ) = None
    stage: ConversationStage | None = None
    attributes: dict[str, Any] | None = None
    #: ``true`` records an opt-out on the lead's behalf. Opting back in is the lead's own act
    #: (a message to the business), so ``false`` is refused.
    opted_out: bool | None = None


class TagsChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"tags": ["vip", "follow-up"]}]}
    )

    tags: list[Tag] = Field(min_length=1, max_length=20)


class NoteCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"body": "Prefers a call after 6 pm."}]}
    )

    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    author_user_id: uuid.UUID | None
    body: str
    created_at: dt.datetime


class ImportRowError(BaseModel):
    #: 1-based line number in the file (the header is line 1).
    line: int
    field: str | None
    message: str


class ImportReport(BaseModel):
    created: int
    updated: int
    #: Always empty on success: a file with any invalid row imports nothing.
    errors: list[ImportRowError]


class EraseReport(BaseModel):
    lead_id: uuid.UUID
    conversations: int
    messages: int
    media_objects: int
    status_events: int
    webhook_receipts: int
