"""Checks on Mouth's message before it may be sent, and its conversion to a Graph request body.

The model is asked to follow these rules and to report its own violations; these checks do not
trust that report. Each returns :class:`Violation`s rather than raising, so the stage can feed
them back for one regeneration (and hand off if the second attempt still breaks a rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from funnel.core.htl.enums import MessageAuthor, MessageKind
from funnel.core.htl.schemas import (
    BUTTON_ID_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    CTA_DISPLAY_TEXT_MAX,
    INTERACTIVE_BODY_MAX,
    LIST_BUTTON_MAX,
    LIST_DESCRIPTION_MAX,
    LIST_ROW_ID_MAX,
    LIST_ROWS_MAX,
    LIST_TITLE_MAX,
    TEXT_MAX,
    MouthOutput,
    Retrieval,
    TurnContext,
)
from funnel.core.htl.text import (
    dominant_script,
    find_urls,
    host_allowed,
    money_amounts,
    numbers_in,
    question_count,
    script_counts,
    url_host,
    word_count,
)

#: "Speaking as a machine", however it is spelt ("as an A.I.", "as a AI" and so on).
_SPEAKING_AS_A_MACHINE = re.compile(r"\bas an? a\.?i\b\.?")
#: Phrases that make a business's WhatsApp sound like a chatbot. Lowercase substrings.
ASSISTANT_PHRASES = (
    "as a language model",
    "language model",
    "i am an ai",
    "i'm an ai",
    "virtual assistant",
    "i am an assistant",
    "i'm just an assistant",
    "how may i assist you",
    "how can i assist you today",
    "i hope this helps",
    "feel free to",
    "i apologize for any inconvenience",
    "i apologise for any inconvenience",
    "great question",
    "is there anything else i can help you with",
    "certainly!",
    "absolutely!",
)
#: A reply must have at least this share of its letters in the customer's script (quoted spans
#: excepted), so a Devanagari customer does not get an English answer with one Hindi word.
MIN_SCRIPT_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


def check_reply(
    reply: MouthOutput,
    ctx: TurnContext,
    *,
    retrieval: Retrieval,
    cta_id: str | None = None,
) -> list[Violation]:
    """Every rule the message breaks; an empty list means it may be sent."""
    violations: list[Violation] = []
    violations += _check_shape(reply)
    violations += _check_length(reply, ctx)
    violations += _check_script(reply, ctx)
    violations += _check_links(reply, ctx, cta_id)
    violations += _check_numbers(reply, ctx, retrieval, cta_id)
    if question_count(reply.text) > 1:
        violations.append(
            Violation("questions", f"{question_count(reply.text)} questions; at most one")
        )
    lowered = reply.text.lower()
    for phrase in ASSISTANT_PHRASES:
        if phrase in lowered:
            violations.append(Violation("assistant_speak", f"uses {phrase!r}"))
    if (found := _SPEAKING_AS_A_MACHINE.search(lowered)) is not None:
        violations.append(Violation("assistant_speak", f"uses {found.group(0)!r}"))
    return violations


def _check_shape(reply: MouthOutput) -> list[Violation]:
    out: list[Violation] = []
    if not reply.text.strip():
        out.append(Violation("empty", "the message has no text"))
    if reply.kind is MessageKind.TEXT:
        if len(reply.text) > TEXT_MAX:
            out.append(Violation("length.text", f"{len(reply.text)} characters > {TEXT_MAX}"))
        return out
    if len(reply.text) > INTERACTIVE_BODY_MAX:
        out.append(
            Violation("length.body", f"{len(reply.text)} characters > {INTERACTIVE_BODY_MAX}")
        )
    if reply.kind is MessageKind.REPLY_BUTTONS:
        if not 1 <= len(reply.buttons) <= BUTTONS_MAX:
            out.append(Violation("buttons.count", f"{len(reply.buttons)} buttons; 1 to 3"))
        titles = [b.title.strip().casefold() for b in reply.buttons]
        ids = [b.id for b in reply.buttons]
        if len(set(titles)) != len(titles):
            out.append(Violation("buttons.unique", "button titles repeat"))
        if len(set(ids)) != len(ids):
            out.append(Violation("buttons.unique", "button ids repeat"))
        for button in reply.buttons:
            if not button.title.strip() or len(button.title) > BUTTON_TITLE_MAX:
                out.append(Violation("buttons.title", f"title {button.title!r}: 1 to 20 chars"))
            if not button.id.strip() or len(button.id) > BUTTON_ID_MAX:
                out.append(Violation("buttons.id", "button id must be 1 to 256 characters"))
    elif reply.kind is MessageKind.LIST:
        if not 1 <= len(reply.list_rows) <= LIST_ROWS_MAX:
            out.append(Violation("list.count", f"{len(reply.list_rows)} rows; 1 to 10"))
        label = reply.list_button or ""
        if not label.strip() or len(label) > LIST_BUTTON_MAX:
            out.append(Violation("list.button", "list button label must be 1 to 20 characters"))
        ids = [r.id for r in reply.list_rows]
        if len(set(ids)) != len(ids):
            out.append(Violation("list.unique", "row ids repeat"))
        for row in reply.list_rows:
            if not row.title.strip() or len(row.title) > LIST_TITLE_MAX:
                out.append(Violation("list.title", f"row title {row.title!r}: 1 to 24 chars"))
            if not row.id.strip() or len(row.id) > LIST_ROW_ID_MAX:
                out.append(Violation("list.id", "row id must be 1 to 200 characters"))
            if row.description is not None and len(row.description) > LIST_DESCRIPTION_MAX:
                out.append(Violation("list.description", "row description > 72 characters"))
    elif reply.kind is MessageKind.CTA_URL:
        link = reply.cta_url
        if link is None:
            out.append(Violation("cta_url.missing", "cta_url message without its button"))
        else:
            if not link.display_text.strip() or len(link.display_text) > CTA_DISPLAY_TEXT_MAX:
                out.append(Violation("cta_url.display_text", "display text must be 1 to 20 chars"))
            if not link.url.startswith("https://"):
                out.append(Violation("cta_url.url", "the CTA URL must be https"))
    return out


def _check_length(reply: MouthOutput, ctx: TurnContext) -> list[Violation]:
    limit = ctx.org.reply_word_limit
    words = word_count(reply.text)
    if words > limit:
        return [Violation("word_limit", f"{words} words > the organisation's limit of {limit}")]
    return []


def _customer_text(ctx: TurnContext) -> str:
    lead = [m.text for m in ctx.new_messages if m.author is MessageAuthor.LEAD and not m.reaction]
    if not lead:
        # A follow-up turn: answer in the script the customer last wrote in.
        lead = [m.text for m in ctx.history if m.author is MessageAuthor.LEAD][-1:]
    return "\n".join(lead)


def _check_script(reply: MouthOutput, ctx: TurnContext) -> list[Violation]:
    expected = dominant_script(_customer_text(ctx))
    if expected is None:
        return []
    counts = script_counts(reply.text, skip_quoted=True)
    total = sum(counts.values())
    if total == 0:
        return []
    share = counts.get(expected, 0) / total
    if share < MIN_SCRIPT_SHARE:
        actual = counts.most_common(1)[0][0]
        return [
            Violation(
                "script",
                f"the customer writes in {expected} script; the reply is mostly {actual}",
            )
        ]
    return []


def _check_links(reply: MouthOutput, ctx: TurnContext, cta_id: str | None) -> list[Violation]:
    allowed = list(ctx.org.allowed_link_domains)
    cta_urls: set[str] = set()
    for option in ctx.active_ctas:
        if option.url:
            cta_urls.add(option.url.rstrip("/"))
    texts = [reply.text, *(b.title for b in reply.buttons)]
    texts += [f"{r.title} {r.description or ''}" for r in reply.list_rows]
    urls = [url for text in texts for url in find_urls(text)]
    if reply.cta_url is not None:
        urls.append(reply.cta_url.url)
    out = []
    for url in urls:
        if url.rstrip("/") in cta_urls:
            continue
        if host_allowed(url_host(url), allowed):
            continue
        out.append(Violation("link", f"{url} is not on an allowed domain or a CTA's URL"))
    if reply.cta_url is not None and cta_id is not None:
        cta = ctx.cta(cta_id)
        if cta is not None and cta.url and reply.cta_url.url.rstrip("/") != cta.url.rstrip("/"):
            out.append(Violation("link", "the CTA button does not open the CTA's URL"))
    return out


def _check_numbers(
    reply: MouthOutput, ctx: TurnContext, retrieval: Retrieval, cta_id: str | None
) -> list[Violation]:
    """No invented prices or figures.

    Money and percentages must appear in the trusted sources: the retrieved knowledge (only when
    grounded), the CTAs, the organisation's own description. Other numbers may also echo what the
    customer or a human agent wrote (an order number, "5 licences").
    """
    trusted = [c.text for c in retrieval.usable_chunks]
    trusted += [f"{c.label} {c.url or ''}" for c in ctx.active_ctas]
    trusted.append(ctx.org.business_description)
    trusted_numbers: set[str] = set()
    for text in trusted:
        trusted_numbers |= numbers_in(text)
    spoken = [
        m.text
        for m in [*ctx.history, *ctx.new_messages]
        if m.author in (MessageAuthor.LEAD, MessageAuthor.HUMAN)
    ]
    echoed: set[str] = set()
    for text in spoken:
        echoed |= numbers_in(text)

    # Numbers inside an allowed link are part of the link, checked by the link rule.
    body = reply.text
    for url in find_urls(body):
        body = body.replace(url, " ")
    texts = [body, *(b.title for b in reply.buttons)]
    texts += [f"{r.title} {r.description or ''}" for r in reply.list_rows]
    if reply.cta_url is not None:
        texts.append(reply.cta_url.display_text)
    out: list[Violation] = []
    seen: set[str] = set()
    for text in texts:
        for amount in sorted(money_amounts(text) - trusted_numbers - seen):
            seen.add(amount)
            out.append(Violation("invented_amount", f"{amount} is not in the knowledge or CTA"))
        for number in sorted(numbers_in(text) - trusted_numbers - echoed - seen):
            seen.add(number)
            out.append(Violation("invented_number", f"{number} is not in the knowledge or CTA"))
    return out


# --- Graph API request bodies ----------------------------------------------------------------


def to_graph_body(
    reply: MouthOutput,
    to: str,
    *,
    reply_to: str | None = None,
    callback_data: str | None = None,
) -> dict[str, Any]:
    """The ``POST /{phone-number-id}/messages`` body for a checked reply (protocol doc §1.8).

    One function for every kind, so the send path has no branches of its own. Limits are not
    re-checked here: :func:`check_reply` has passed before anything is converted.
    """
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    }
    if reply_to:
        body["context"] = {"message_id": reply_to}
    if callback_data:
        body["biz_opaque_callback_data"] = callback_data
    if reply.kind is MessageKind.TEXT:
        body["type"] = "text"
        body["text"] = {"body": reply.text, "preview_url": bool(find_urls(reply.text))}
        return body
    body["type"] = "interactive"
    interactive: dict[str, Any]
    if reply.kind is MessageKind.REPLY_BUTTONS:
        interactive = {
            "type": "button",
            "body": {"text": reply.text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b.id, "title": b.title}}
                    for b in reply.buttons
                ]
            },
        }
    elif reply.kind is MessageKind.LIST:
        rows: list[dict[str, str]] = []
        for row in reply.list_rows:
            item = {"id": row.id, "title": row.title}
            if row.description:
                item["description"] = row.description
            rows.append(item)
        interactive = {
            "type": "list",
            "body": {"text": reply.text},
            "action": {
                "button": reply.list_button or "",
                "sections": [{"title": (reply.list_button or "")[:LIST_TITLE_MAX], "rows": rows}],
            },
        }
    else:
        assert reply.cta_url is not None  # MouthOutput degrades a cta_url without one to text
        interactive = {
            "type": "cta_url",
            "body": {"text": reply.text},
            "action": {
                "name": "cta_url",
                "parameters": {
                    "display_text": reply.cta_url.display_text,
                    "url": reply.cta_url.url,
                },
            },
        }
    body["interactive"] = interactive
    return body
