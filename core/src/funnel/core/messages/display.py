"""What a timeline shows of a message's structured part (``Message.content``): media caption and
filename, an interactive message's buttons, list rows or link, a template's name and parameters.

Inbound messages store what :mod:`funnel.core.inbound.service` parsed (``{"media": ...}``,
``{"interactive": ...}``, ``{"button": ...}``); outbound ones the Graph request body
(``{"graph": {"type": "template", "template": ...}}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


@dataclass(frozen=True)
class MediaSummary:
    mime_type: str | None = None
    caption: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class InteractiveSummary:
    #: ``button``, ``list``, ``cta_url`` (sent), or ``button_reply``/``list_reply`` (a choice).
    kind: str
    body: str | None = None
    #: Reply buttons' titles, a list's row titles, or the chosen button or row.
    options: list[str] = field(default_factory=list)
    url: str | None = None
    url_label: str | None = None


@dataclass(frozen=True)
class TemplateSummary:
    name: str
    language: str | None = None
    #: The text parameters in order (header, then body, then buttons).
    parameters: list[str] = field(default_factory=list)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _graph(content: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    graph = _dict(content.get("graph"))
    kind = _str(graph.get("type"))
    return kind, _dict(graph.get(kind)) if kind else {}


def media_summary(content: dict[str, Any]) -> MediaSummary | None:
    media = _dict(content.get("media"))
    if media:
        return MediaSummary(
            mime_type=_str(media.get("mime_type")),
            caption=_str(media.get("caption")),
            filename=_str(media.get("filename")),
        )
    kind, body = _graph(content)
    if kind in _MEDIA_KINDS:
        return MediaSummary(caption=_str(body.get("caption")), filename=_str(body.get("filename")))
    return None


def interactive_summary(content: dict[str, Any]) -> InteractiveSummary | None:
    received = _dict(content.get("interactive"))
    if received:
        reply = _str(received.get("type")) or "interactive"
        title = _str(_dict(received.get(reply)).get("title"))
        return InteractiveSummary(kind=reply, options=[title] if title else [])
    button = _dict(content.get("button"))
    if button:
        text = _str(button.get("text"))
        return InteractiveSummary(kind="button_reply", options=[text] if text else [])
    kind, body = _graph(content)
    if kind != "interactive":
        return None
    sent = _str(body.get("type")) or "interactive"
    action = _dict(body.get("action"))
    options: list[str] = []
    for b in _list(action.get("buttons")):
        title = _str(_dict(_dict(b).get("reply")).get("title"))
        if title:
            options.append(title)
    for section in _list(action.get("sections")):
        for row in _list(_dict(section).get("rows")):
            title = _str(_dict(row).get("title"))
            if title:
                options.append(title)
    parameters = _dict(action.get("parameters"))
    return InteractiveSummary(
        kind=sent,
        body=_str(_dict(body.get("body")).get("text")),
        options=options,
        url=_str(parameters.get("url")),
        url_label=_str(parameters.get("display_text")),
    )


def template_summary(content: dict[str, Any]) -> TemplateSummary | None:
    kind, body = _graph(content)
    if kind != "template":
        return None
    name = _str(body.get("name"))
    if name is None:
        return None
    parameters: list[str] = []
    for component in _list(body.get("components")):
        for parameter in _list(_dict(component).get("parameters")):
            parameter = _dict(parameter)
            text = _str(parameter.get("text")) or _str(parameter.get("payload"))
            if text:
                parameters.append(text)
    return TemplateSummary(
        name=name, language=_str(_dict(body.get("language")).get("code")), parameters=parameters
    )
