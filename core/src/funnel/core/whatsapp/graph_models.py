"""Values the Graph client takes and returns, and the pure builders of Graph request bodies.

Every ``build_*`` function checks WhatsApp's field limits and returns the exact JSON body the
send endpoint expects (protocol doc §1.8), so the shapes and the limits are unit-tested without
any HTTP. A limit broken here raises :class:`GraphValidationError` before a request is made:
Meta would answer 100/131009 anyway, after a round trip and a retry budget spent on a message
that can never go out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from funnel.core.whatsapp.errors import GraphValidationError

# WhatsApp's limits, in characters (protocol doc §1.8).
TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
CAPTION_MAX = 1024
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
BUTTONS_MIN, BUTTONS_MAX = 1, 3
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_TITLE_MAX = 24
LIST_ROW_ID_MAX = 200
LIST_DESCRIPTION_MAX = 72
CTA_DISPLAY_TEXT_MAX = 20
CALLBACK_DATA_MAX = 512

MediaKind = Literal["image", "document", "audio", "video", "sticker"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("image", "document", "audio", "video", "sticker")
HeaderKind = Literal["text", "image", "video", "document"]
TypingIndicator = Literal["text"]

_DIGITS = re.compile(r"^\+?\d{5,20}$")


@dataclass(frozen=True, slots=True)
class SendResult:
    """What Meta accepted: store ``wamid``; ``wa_id`` is the canonical recipient id."""

    wamid: str
    wa_id: str | None
    #: Template sends only: ``accepted``, ``held_for_quality_assessment`` or ``paused``.
    message_status: str | None = None
    input: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ListSection:
    title: str | None
    rows: Sequence[ListRow]


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Media by an uploaded id or by a public link: exactly one of the two."""

    id: str | None = None
    link: str | None = None

    def as_json(self) -> dict[str, str]:
        if (self.id is None) == (self.link is None):
            raise GraphValidationError("media needs exactly one of id or link")
        return {"id": self.id} if self.id is not None else {"link": str(self.link)}


@dataclass(frozen=True, slots=True)
class Header:
    """An interactive message header: text, or an image/video/document."""

    type: HeaderKind
    text: str | None = None
    media: MediaRef | None = None

    def as_json(self) -> dict[str, Any]:
        if self.type == "text":
            if not self.text:
                raise GraphValidationError("a text header needs text")
            _max("header text", self.text, HEADER_TEXT_MAX)
            return {"type": "text", "text": self.text}
        if self.media is None:
            raise GraphValidationError(f"a {self.type} header needs media")
        return {"type": self.type, self.type: self.media.as_json()}


@dataclass(frozen=True, slots=True)
class TemplateComponent:
    """One component of a template send: ``header``, ``body`` or ``button``.

    ``parameters`` are Graph parameter objects as-is (``{"type": "text", "text": "…"}``,
    ``{"type": "payload", "payload": "…"}``, ``{"type": "image", "image": {"link": …}}``, …);
    :func:`text_parameter` and :func:`payload_parameter` build the common ones.
    """

    type: Literal["header", "body", "button"]
    parameters: Sequence[Mapping[str, Any]] = ()
    sub_type: Literal["quick_reply", "url", "copy_code", "flow"] | None = None
    index: int | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "parameters": [dict(p) for p in self.parameters]}
        if self.type == "button":
            if self.sub_type is None or self.index is None:
                raise GraphValidationError("a button component needs sub_type and index")
            out["sub_type"] = self.sub_type
            out["index"] = str(self.index)
        return out


def text_parameter(text: str, name: str | None = None) -> dict[str, str]:
    """A text parameter; ``name`` for templates with NAMED parameters."""
    param = {"type": "text", "text": text}
    if name is not None:
        param["parameter_name"] = name
    return param


def payload_parameter(payload: str) -> dict[str, str]:
    return {"type": "payload", "payload": payload}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    #: Hex, as the GET-media endpoint gives it (webhooks carry base64).
    sha256: str
    file_size: int | None


@dataclass(frozen=True, slots=True)
class DownloadedMedia:
    content: bytes
    mime_type: str
    sha256: str


@dataclass(frozen=True, slots=True)
class TemplateSummary:
    total_count: int | None = None
    message_template_count: int | None = None
    message_template_limit: int | None = None
    are_translations_complete: bool | None = None


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    id: str
    name: str
    language: str
    status: str
    category: str | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    parameter_format: str | None = None
    rejected_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TemplatePage:
    templates: list[MessageTemplate]
    summary: TemplateSummary | None
    #: Cursor for the next page, ``None`` on the last one.
    after: str | None


@dataclass(frozen=True, slots=True)
class CreatedTemplate:
    id: str
    status: str
    category: str | None


@dataclass(frozen=True, slots=True)
class PhoneNumberInfo:
    """What the settings page's "connect" check shows: proves the token and id go together."""

    id: str
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None
    messaging_limit: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- validation


def _max(what: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise GraphValidationError(f"{what} is {len(value)} characters; WhatsApp allows {limit}")


def _required(what: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise GraphValidationError(f"{what} must not be empty")
    return value


def validate_callback_data(callback_data: str) -> None:
    _max("biz_opaque_callback_data", callback_data, CALLBACK_DATA_MAX)


def recipient_fields(to: str) -> dict[str, str]:
    """``to`` for a phone number (wa_id / E.164), ``recipient`` for a business-scoped user id.

    Users who adopted a username may come with a BSUID only (``IN.1410018717833190``); the send
    API takes those in ``recipient`` instead of ``to`` (protocol doc §1.14).
    """
    _required("recipient", to)
    return {"to": to} if _DIGITS.match(to) else {"recipient": to}


def envelope(
    to: str, type_: str, callback_data: str, reply_to: str | None = None
) -> dict[str, Any]:
    validate_callback_data(callback_data)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **recipient_fields(to),
        "type": type_,
    }
    if reply_to:
        body["context"] = {"message_id": reply_to}
    if callback_data:
        body["biz_opaque_callback_data"] = callback_data
    return body


def _interactive_extras(
    interactive: dict[str, Any], header: Header | None, footer: str | None
) -> dict[str, Any]:
    if header is not None:
        interactive["header"] = header.as_json()
    if footer:
        _max("footer", footer, FOOTER_MAX)
        interactive["footer"] = {"text": footer}
    return interactive


def _body_text(text: str) -> dict[str, str]:
    _required("body", text)
    _max("body", text, INTERACTIVE_BODY_MAX)
    return {"text": text}


# ---------------------------------------------------------------- body builders


def build_text(
    to: str,
    text: str,
    *,
    callback_data: str,
    preview_url: bool = False,
    reply_to: str | None = None,
) -> dict[str, Any]:
    _required("text", text)
    _max("text", text, TEXT_MAX)
    body = envelope(to, "text", callback_data, reply_to)
    body["text"] = {"body": text, "preview_url": preview_url}
    return body


def build_buttons(
    to: str,
    text: str,
    buttons: Sequence[ReplyButton],
    *,
    callback_data: str,
    header: Header | None = None,
    footer: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    if not BUTTONS_MIN <= len(buttons) <= BUTTONS_MAX:
        raise GraphValidationError(
            f"reply buttons: {len(buttons)} given; WhatsApp allows {BUTTONS_MIN} to {BUTTONS_MAX}"
        )
    titles: set[str] = set()
    ids: set[str] = set()
    for button in buttons:
        _required("button title", button.title)
        _required("button id", button.id)
        _max("button title", button.title, BUTTON_TITLE_MAX)
        _max("button id", button.id, BUTTON_ID_MAX)
        if button.title in titles:
            raise GraphValidationError(f"button titles must be unique: {button.title!r} repeats")
        if button.id in ids:
            raise GraphValidationError(f"button ids must be unique: {button.id!r} repeats")
        titles.add(button.title)
        ids.add(button.id)
    body = envelope(to, "interactive", callback_data, reply_to)
    body["interactive"] = _interactive_extras(
        {
            "type": "button",
            "body": _body_text(text),
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in buttons
                ]
            },
        },
        header,
        footer,
    )
    return body


def build_list(
    to: str,
    text: str,
    button: str,
    sections: Sequence[ListSection],
    *,
    callback_data: str,
    header: Header | None = None,
    footer: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    _required("list button", button)
    _max("list button", button, LIST_BUTTON_MAX)
    if not 1 <= len(sections) <= LIST_SECTIONS_MAX:
        raise GraphValidationError(
            f"list: {len(sections)} sections given; WhatsApp allows 1 to {LIST_SECTIONS_MAX}"
        )
    total = sum(len(s.rows) for s in sections)
    if not 1 <= total <= LIST_ROWS_MAX:
        raise GraphValidationError(
            f"list: {total} rows in total; WhatsApp allows 1 to {LIST_ROWS_MAX}"
        )
    if len(sections) > 1 and any(not s.title for s in sections):
        raise GraphValidationError("list: every section needs a title when there are several")
    row_ids: set[str] = set()
    out_sections: list[dict[str, Any]] = []
    for section in sections:
        if not section.rows:
            raise GraphValidationError("list: a section needs at least one row")
        out: dict[str, Any] = {}
        if section.title:
            _max("section title", section.title, LIST_TITLE_MAX)
            out["title"] = section.title
        rows = []
        for row in section.rows:
            _required("row id", row.id)
            _required("row title", row.title)
            _max("row id", row.id, LIST_ROW_ID_MAX)
            _max("row title", row.title, LIST_TITLE_MAX)
            if row.id in row_ids:
                raise GraphValidationError(f"list row ids must be unique: {row.id!r} repeats")
            row_ids.add(row.id)
            item = {"id": row.id, "title": row.title}
            if row.description:
                _max("row description", row.description, LIST_DESCRIPTION_MAX)
                item["description"] = row.description
            rows.append(item)
        out["rows"] = rows
        out_sections.append(out)
    if header is not None and header.type != "text":
        raise GraphValidationError("list messages take a text header only")
    body = envelope(to, "interactive", callback_data, reply_to)
    body["interactive"] = _interactive_extras(
        {
            "type": "list",
            "body": _body_text(text),
            "action": {"button": button, "sections": out_sections},
        },
        header,
        footer,
    )
    return body


def build_cta_url(
    to: str,
    text: str,
    display_text: str,
    url: str,
    *,
    callback_data: str,
    header: Header | None = None,
    footer: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    _required("display_text", display_text)
    _max("display_text", display_text, CTA_DISPLAY_TEXT_MAX)
    if not url.startswith(("https://", "http://")):
        raise GraphValidationError("cta_url needs an http(s) URL")
    body = envelope(to, "interactive", callback_data, reply_to)
    body["interactive"] = _interactive_extras(
        {
            "type": "cta_url",
            "body": _body_text(text),
            "action": {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}},
        },
        header,
        footer,
    )
    return body


def build_template(
    to: str,
    name: str,
    language: str,
    components: Sequence[TemplateComponent] = (),
    *,
    callback_data: str,
    reply_to: str | None = None,
) -> dict[str, Any]:
    _required("template name", name)
    _required("template language", language)
    body = envelope(to, "template", callback_data, reply_to)
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = [c.as_json() for c in components]
    body["template"] = template
    return body


def build_media(
    to: str,
    kind: MediaKind,
    media: MediaRef,
    *,
    callback_data: str,
    caption: str | None = None,
    filename: str | None = None,
    reply_to: str | None = None,
) -> dict[str, Any]:
    if kind not in MEDIA_KINDS:
        raise GraphValidationError(f"unknown media type {kind!r}")
    obj: dict[str, Any] = media.as_json()
    if caption:
        # Meta ignores or rejects captions on audio and stickers.
        if kind in ("audio", "sticker"):
            raise GraphValidationError(f"{kind} messages take no caption")
        _max("caption", caption, CAPTION_MAX)
        obj["caption"] = caption
    if filename:
        if kind != "document":
            raise GraphValidationError("only documents take a filename")
        obj["filename"] = filename
    body = envelope(to, kind, callback_data, reply_to)
    body[kind] = obj
    return body


def build_reaction(to: str, message_id: str, emoji: str, *, callback_data: str) -> dict[str, Any]:
    """A reaction; an empty ``emoji`` removes ours."""
    _required("reaction message_id", message_id)
    body = envelope(to, "reaction", callback_data)
    body["reaction"] = {"message_id": message_id, "emoji": emoji}
    return body


def build_mark_read(
    message_id: str, *, typing_indicator: TypingIndicator | None = None
) -> dict[str, Any]:
    _required("message_id", message_id)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": message_id,
    }
    if typing_indicator is not None:
        body["typing_indicator"] = {"type": typing_indicator}
    return body
