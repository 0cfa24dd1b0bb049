"""Request and response models for follow-up sequences."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from funnel.core.models.enums import FollowupTrigger

#: At most this many nudges in one sequence (the organisation's follow-up policy caps how many
#: are sent anyway).
MAX_STEPS = 10
#: A step's delay: at least a minute, at most 30 days after the previous outbound message.
MAX_DELAY_MINUTES = 30 * 24 * 60

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Hint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class StepWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Minutes after the previous outbound message (the reply, or the previous nudge).
    delay_minutes: int = Field(ge=1, le=MAX_DELAY_MINUTES)
    #: What this nudge should say, for Mouth to write inside the 24-hour window.
    message_hint: Hint | None = None
    #: The approved template to send instead when the window has closed; without one, the step
    #: is skipped outside the window.
    template_id: uuid.UUID | None = None


class SequenceWrite(BaseModel):
    """A whole sequence: creating one, or replacing one (steps are numbered in list order)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Gentle nudges",
                    "trigger": "no_reply",
                    "is_active": True,
                    "steps": [
                        {"delay_minutes": 60, "message_hint": "Ask if they had a look"},
                        {"delay_minutes": 1440, "message_hint": "Offer a call"},
                    ],
                }
            ]
        },
    )

    name: Name
    trigger: FollowupTrigger = FollowupTrigger.NO_REPLY
    #: Only one sequence per trigger is active: activating this one deactivates the others.
    is_active: bool = True
    steps: list[StepWrite] = Field(min_length=1, max_length=MAX_STEPS)


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    delay_minutes: int
    message_hint: str | None
    template_id: uuid.UUID | None


class SequenceRead(BaseModel):
    id: uuid.UUID
    name: str
    trigger: FollowupTrigger
    is_active: bool
    steps: list[StepRead]
    created_at: dt.datetime
    updated_at: dt.datetime
