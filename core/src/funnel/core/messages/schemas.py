"""Request and response models for human sends.

No request model has a recipient field (``to``, a phone number): the recipient is always the
conversation's lead, looked up by the outbox. ``extra="forbid"`` turns an attempt to name one
into a 422 instead of silently ignoring it. The original accepted a ``to`` override.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from funnel.core.conversations.schemas import MessageRead
from funnel.core.models.enums import MessageStatus

_ID = "00000000-0000-0000-0000-000000000000"


class _Send(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: uuid.UUID


class TextSend(_Send):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"type": "text", "conversation_id": _ID, "text": "Happy to help!"}]
        },
    )

    type: Literal["text"] = "text"
    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    preview_url: bool = False
    #: Outside the 24-hour window, send the organisation's approved re-engagement template
    #: instead of refusing. The answer says which was sent.
    fallback_to_template: bool = False


class Button(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=20)]


class ButtonsSend(_Send):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "buttons",
                    "conversation_id": _ID,
                    "text": "Shall we book a call?",
                    "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "Not now"}],
                }
            ]
        },
    )

    type: Literal["buttons"] = "buttons"
    text: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    buttons: list[Button] = Field(min_length=1, max_length=3)
    footer: Annotated[str, StringConstraints(max_length=60)] | None = None


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=24)]
    description: Annotated[str, StringConstraints(max_length=72)] | None = None


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(max_length=24)] | None = None
    rows: list[Row] = Field(min_length=1, max_length=10)


class ListSend(_Send):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "list",
                    "conversation_id": _ID,
                    "text": "Pick a plan",
                    "button": "Plans",
                    "sections": [{"title": "Plans", "rows": [{"id": "basic", "title": "Basic"}]}],
                }
            ]
        },
    )

    type: Literal["list"] = "list"
    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    button: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    sections: list[Section] = Field(min_length=1, max_length=10)


class TemplateSend(_Send):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "template",
                    "conversation_id": _ID,
                    "template_id": _ID,
                    "parameters": ["Asha"],
                }
            ]
        },
    )

    type: Literal["template"] = "template"
    template_id: uuid.UUID
    #: Values for the header and body placeholders: a list in placeholder order for a
    #: positional template (``{{1}}``, ``{{2}}``…), an object for a named one.
    parameters: (
        list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]]
        | dict[str, Annotated[str, StringConstraints(min_length=1, max_length=1024)]]
    ) = Field(default_factory=list)


SendRequest = Annotated[
    TextSend | ButtonsSend | ListSend | TemplateSend, Field(discriminator="type")
]


class SendAccepted(BaseModel):
    """The message is queued; the outbox sends it and its status arrives by webhook."""

    #: ``free_form`` (as written) or ``template`` (the approved template the planner chose).
    verdict: str
    message: MessageRead


class StatusEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: MessageStatus
    occurred_at: dt.datetime
    error_code: int | None
    error_title: str | None


class MessageWithHistory(BaseModel):
    message: MessageRead
    #: Oldest first, as WhatsApp reported them.
    status_history: list[StatusEventRead]
