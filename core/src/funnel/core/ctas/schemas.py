"""Request and response models for CTAs. ``label`` in the brief is ``name`` here."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, StringConstraints, field_validator

from funnel.core.models.enums import CtaType

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
#: WhatsApp's limit for a CTA-URL button's display text.
ButtonText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


def _https(value: AnyHttpUrl | None) -> AnyHttpUrl | None:
    # A link sent to customers on a business's behalf: plain http is refused.
    if value is not None and value.scheme != "https":
        raise ValueError("the URL must use https")
    return value


class CtaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: CtaType
    name: str
    description: str | None
    url: str | None
    button_text: str | None
    payload: dict[str, Any]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class CtaCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "book_call",
                    "name": "Book a call",
                    "url": "https://cal.example.com/sales",
                    "button_text": "Pick a slot",
                }
            ]
        },
    )

    type: CtaType
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    url: AnyHttpUrl | None = None
    button_text: ButtonText | None = None
    payload: dict[str, Any] = {}
    is_active: bool = True

    _url = field_validator("url")(_https)


class CtaUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"is_active": False}]}
    )

    type: CtaType | None = None
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    url: AnyHttpUrl | None = None
    button_text: ButtonText | None = None
    payload: dict[str, Any] | None = None
    is_active: bool | None = None

    _url = field_validator("url")(_https)
