"""Request and response models for quick replies."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
#: WhatsApp's limit for a text message's body; leading and trailing blank lines are dropped.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class QuickReplyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    text: str
    created_at: dt.datetime
    updated_at: dt.datetime


class QuickReplyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"title": "Opening hours", "text": "We are open 9 am to 7 pm, Mon-Sat."}]
        },
    )

    title: Title
    text: Text


class QuickReplyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "..."}]})

    title: Title | None = None
    text: Text | None = None
