"""Send bodies match the protocol doc's shapes, and WhatsApp's field limits are enforced locally."""

from __future__ import annotations

from typing import Any

import pytest

from funnel.core.whatsapp.errors import ErrorKind, GraphValidationError
from funnel.core.whatsapp.graph_models import (
    Header,
    ListRow,
    ListSection,
    MediaRef,
    ReplyButton,
    TemplateComponent,
    build_buttons,
    build_cta_url,
    build_list,
    build_mark_read,
    build_media,
    build_reaction,
    build_template,
    build_text,
    payload_parameter,
    text_parameter,
)

TO = "919812345678"
CB = "outbox-42"
COMMON = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": TO,
    "biz_opaque_callback_data": CB,
}


def test_text_body() -> None:
    assert build_text(TO, "Hello", callback_data=CB, preview_url=True) == {
        **COMMON,
        "type": "text",
        "text": {"body": "Hello", "preview_url": True},
    }


def test_quote_reply_adds_context() -> None:
    body = build_text(TO, "Hi", callback_data=CB, reply_to="wamid.X")
    assert body["context"] == {"message_id": "wamid.X"}


def test_bsuid_goes_in_recipient_not_to() -> None:
    body = build_text("IN.1410018717833190", "Hi", callback_data=CB)
    assert body["recipient"] == "IN.1410018717833190"
    assert "to" not in body


def test_reply_buttons_body() -> None:
    body = build_buttons(
        TO,
        "Confirm your order?",
        [ReplyButton("yes", "Yes"), ReplyButton("no", "No")],
        callback_data=CB,
        header=Header("text", text="Order A-1042"),
        footer="Reply any time",
    )
    assert body == {
        **COMMON,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Order A-1042"},
            "body": {"text": "Confirm your order?"},
            "footer": {"text": "Reply any time"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                    {"type": "reply", "reply": {"id": "no", "title": "No"}},
                ]
            },
        },
    }


def test_list_body() -> None:
    body = build_list(
        TO,
        "Pick a slot",
        "Slots",
        [ListSection("Monday", [ListRow("slot_1", "Mon 10:00", "Dr. Rao, Bandra")])],
        callback_data=CB,
    )
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "Pick a slot"},
        "action": {
            "button": "Slots",
            "sections": [
                {
                    "title": "Monday",
                    "rows": [
                        {"id": "slot_1", "title": "Mon 10:00", "description": "Dr. Rao, Bandra"}
                    ],
                }
            ],
        },
    }


def test_cta_url_body_with_image_header() -> None:
    body = build_cta_url(
        TO,
        "Track your parcel",
        "Track",
        "https://example.com/t?o=A-1042",
        callback_data=CB,
        header=Header("image", media=MediaRef(link="https://example.com/p.jpg")),
    )
    assert body["interactive"] == {
        "type": "cta_url",
        "header": {"type": "image", "image": {"link": "https://example.com/p.jpg"}},
        "body": {"text": "Track your parcel"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Track", "url": "https://example.com/t?o=A-1042"},
        },
    }


def test_template_body() -> None:
    body = build_template(
        TO,
        "order_update",
        "en_US",
        [
            TemplateComponent("body", [text_parameter("Asha"), text_parameter("A-1042", "order")]),
            TemplateComponent(
                "button", [payload_parameter("STOP")], sub_type="quick_reply", index=0
            ),
        ],
        callback_data=CB,
    )
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Asha"},
                    {"type": "text", "text": "A-1042", "parameter_name": "order"},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "STOP"}],
            },
        ],
    }


@pytest.mark.parametrize(
    ("kind", "media", "extra", "expected"),
    [
        ("image", MediaRef(id="123"), {"caption": "Receipt"}, {"id": "123", "caption": "Receipt"}),
        (
            "document",
            MediaRef(link="https://example.com/i.pdf"),
            {"filename": "invoice.pdf", "caption": "Invoice"},
            {"link": "https://example.com/i.pdf", "filename": "invoice.pdf", "caption": "Invoice"},
        ),
        ("audio", MediaRef(id="9"), {}, {"id": "9"}),
        ("video", MediaRef(id="8"), {"caption": "Demo"}, {"id": "8", "caption": "Demo"}),
        ("sticker", MediaRef(id="7"), {}, {"id": "7"}),
    ],
)
def test_media_bodies(
    kind: Any, media: MediaRef, extra: dict[str, str], expected: dict[str, str]
) -> None:
    body = build_media(TO, kind, media, callback_data=CB, **extra)
    assert body == {**COMMON, "type": kind, kind: expected}


def test_reaction_and_mark_read_bodies() -> None:
    assert build_reaction(TO, "wamid.A", "👍", callback_data=CB) == {
        **COMMON,
        "type": "reaction",
        "reaction": {"message_id": "wamid.A", "emoji": "👍"},
    }
    assert build_mark_read("wamid.A", typing_indicator="text") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.A",
        "typing_indicator": {"type": "text"},
    }
    assert "typing_indicator" not in build_mark_read("wamid.A")


def rows(n: int) -> list[ListRow]:
    return [ListRow(f"r{i}", f"Row {i}") for i in range(n)]


INVALID: list[tuple[str, Any]] = [
    ("text is 4097", lambda: build_text(TO, "x" * 4097, callback_data=CB)),
    ("empty text", lambda: build_text(TO, "  ", callback_data=CB)),
    ("callback 513", lambda: build_text(TO, "hi", callback_data="c" * 513)),
    ("no buttons", lambda: build_buttons(TO, "b", [], callback_data=CB)),
    (
        "4 buttons",
        lambda: build_buttons(
            TO, "b", [ReplyButton(f"{i}", f"B{i}") for i in range(4)], callback_data=CB
        ),
    ),
    (
        "duplicate titles",
        lambda: build_buttons(
            TO, "b", [ReplyButton("a", "Yes"), ReplyButton("b", "Yes")], callback_data=CB
        ),
    ),
    ("title 21", lambda: build_buttons(TO, "b", [ReplyButton("a", "t" * 21)], callback_data=CB)),
    ("id 257", lambda: build_buttons(TO, "b", [ReplyButton("i" * 257, "T")], callback_data=CB)),
    ("body 1025", lambda: build_buttons(TO, "b" * 1025, [ReplyButton("a", "T")], callback_data=CB)),
    (
        "11 rows",
        lambda: build_list(
            TO,
            "b",
            "Menu",
            [ListSection("A", rows(6)), ListSection("B", rows(5))],
            callback_data=CB,
        ),
    ),
    (
        "row title 25",
        lambda: build_list(
            TO, "b", "Menu", [ListSection(None, [ListRow("a", "t" * 25)])], callback_data=CB
        ),
    ),
    (
        "description 73",
        lambda: build_list(
            TO, "b", "Menu", [ListSection(None, [ListRow("a", "t", "d" * 73)])], callback_data=CB
        ),
    ),
    (
        "section title 25",
        lambda: build_list(TO, "b", "Menu", [ListSection("s" * 25, rows(1))], callback_data=CB),
    ),
    (
        "list button 21",
        lambda: build_list(TO, "b", "m" * 21, [ListSection(None, rows(1))], callback_data=CB),
    ),
    (
        "row id 201",
        lambda: build_list(
            TO, "b", "Menu", [ListSection(None, [ListRow("i" * 201, "t")])], callback_data=CB
        ),
    ),
    ("display text 21", lambda: build_cta_url(TO, "b", "d" * 21, "https://x.y", callback_data=CB)),
    (
        "cta not a url",
        lambda: build_cta_url(TO, "b", "Open", "javascript:alert(1)", callback_data=CB),
    ),
    (
        "media id and link",
        lambda: build_media(TO, "image", MediaRef(id="1", link="https://x"), callback_data=CB),
    ),
    (
        "sticker caption",
        lambda: build_media(TO, "sticker", MediaRef(id="1"), caption="c", callback_data=CB),
    ),
    (
        "image filename",
        lambda: build_media(TO, "image", MediaRef(id="1"), filename="a.jpg", callback_data=CB),
    ),
    (
        "button component without index",
        lambda: build_template(TO, "t", "en", [TemplateComponent("button")], callback_data=CB),
    ),
]


@pytest.mark.parametrize("build", [b for _, b in INVALID], ids=[n for n, _ in INVALID])
def test_limits_are_refused_before_sending(build: Any) -> None:
    with pytest.raises(GraphValidationError) as info:
        build()
    assert info.value.kind is ErrorKind.INVALID
    assert not info.value.retryable


def test_limits_themselves_are_allowed() -> None:
    build_text(TO, "x" * 4096, callback_data="c" * 512)
    build_buttons(
        TO,
        "b" * 1024,
        [ReplyButton(f"{i}" * 256, f"{i}" * 20) for i in range(1, 4)],
        callback_data=CB,
    )
    build_list(
        TO,
        "b",
        "m" * 20,
        [ListSection("s" * 24, [ListRow("a", "t" * 24, "d" * 72), *rows(9)])],
        callback_data=CB,
    )
    build_cta_url(TO, "b", "d" * 20, "https://x.y", callback_data=CB)
