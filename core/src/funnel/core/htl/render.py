"""The values each stage's prompt is rendered with.

Everything a customer wrote — and everything uploaded to the knowledge base, which a customer may
have influenced — goes inside a named block (``<customer_messages>…</customer_messages>``) that
the instructions declare to be data. A customer who types one of those tags gets it neutralised
(angle brackets swapped for look-alike guillemets), so they cannot close the block early and
write text that reads as instructions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from funnel.core.htl.enums import MessageAuthor, TurnTrigger
from funnel.core.htl.schemas import (
    BrainOutput,
    ChatMessage,
    Exchange,
    EyesOutput,
    Retrieval,
    TurnContext,
)

#: The block names the prompts use for untrusted or semi-trusted data.
BLOCK_NAMES = (
    "customer_messages",
    "conversation",
    "knowledge",
    "rolling_summary",
    "organisation_instructions",
    "exchange",
    "previous_reply",
)
_TAG = re.compile(
    r"<\s*/?\s*(?:" + "|".join(BLOCK_NAMES) + r")\b[^>]*>?",
    re.IGNORECASE,
)

#: How many knowledge chunks a prompt shows; the rest are recorded in the trace only.
MAX_PROMPT_CHUNKS = 5
_CHUNK_PROMPT_CHARS = 1200


def neutralise(text: str) -> str:
    """Defang any of our block tags inside untrusted text."""
    return _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def _time(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def format_messages(messages: Sequence[ChatMessage], tz: tzinfo) -> str:
    if not messages:
        return "(none)"
    lines = []
    for message in messages:
        extra = ""
        if message.reply_id:
            extra = f" [tapped button id={neutralise(message.reply_id)}]"
        if message.reaction:
            extra = " [reaction]"
        lines.append(
            f"[{_time(message.at, tz)}] {message.author.value}{extra}: {neutralise(message.text)}"
        )
    return "\n".join(lines)


def format_ctas(ctx: TurnContext) -> str:
    ctas = ctx.active_ctas
    if not ctas:
        return "(this organisation has no active CTA: never offer one)"
    return "\n".join(
        f"- id={cta.id} | type={cta.type.value} | label={cta.label}"
        + (f" | url={cta.url}" if cta.url else "")
        for cta in ctas
    )


def format_knowledge(retrieval: Retrieval) -> str:
    if not retrieval.attempted:
        return "(no knowledge was looked up for this turn)"
    if not retrieval.grounded:
        return (
            "NO GROUNDING: the knowledge base has nothing reliable on this. "
            "State no facts, prices, dates or links about it."
        )
    parts = []
    for chunk in retrieval.usable_chunks[:MAX_PROMPT_CHUNKS]:
        text = chunk.text[:_CHUNK_PROMPT_CHARS]
        parts.append(
            f"[chunk {neutralise(chunk.chunk_id)} | {neutralise(chunk.document_title)} | "
            f"score {chunk.score:.2f}]\n{neutralise(text)}"
        )
    return "\n\n".join(parts)


def format_window(ctx: TurnContext) -> str:
    if ctx.state.window_open:
        closes_at = ctx.state.window_closes_at
        if closes_at is None:
            return "open"
        return f"open, closes {_time(closes_at, ZoneInfo(ctx.org.timezone))} local time"
    return "closed (only an approved template may be sent)"


def _organisation_values(ctx: TurnContext) -> dict[str, str]:
    org = ctx.org
    instructions = "\n\n".join(
        part
        for part in (
            f"Persona:\n{org.persona_prompt}" if org.persona_prompt else "",
            f"Sales flow:\n{org.flow_prompt}" if org.flow_prompt else "",
        )
        if part
    )
    return {
        "business_name": org.business_name,
        "business_description": org.business_description or "(not given)",
        "organisation_instructions": neutralise(instructions) or "(none)",
        "reply_word_limit": str(org.reply_word_limit),
        "default_language": org.language,
    }


def _trigger(ctx: TurnContext) -> str:
    if ctx.trigger is TurnTrigger.CUSTOMER:
        return "the customer sent new messages"
    text = "a scheduled follow-up is due; the customer has sent nothing new"
    if ctx.followup_hint:
        text += f". What this follow-up should be about: {neutralise(ctx.followup_hint)}"
    return text


def _state_values(ctx: TurnContext) -> dict[str, str]:
    tz = ctx.local_now.tzinfo
    assert tz is not None  # local_now is always aware
    state = ctx.state
    return {
        "local_time": ctx.local_now.strftime("%A %Y-%m-%d %H:%M") + f" ({ctx.org.timezone})",
        "window": format_window(ctx),
        "trigger": _trigger(ctx),
        "stage": state.stage.value,
        "mode": state.mode.value,
        "intent_level": state.intent_level.value,
        "sentiment": state.sentiment.value,
        "cta_status": (
            f"{state.cta_id} ({state.cta_state.value if state.cta_state else 'unknown'})"
            if state.cta_id
            else "none offered"
        ),
        "nudges": (
            f"{state.followup_count_24h} follow-ups in the last 24 h, {state.total_nudges} in total"
        ),
        "rolling_summary": neutralise(state.rolling_summary) or "(no summary yet)",
        "lead_facts": neutralise(state.lead_facts.model_dump_json(exclude_none=True)),
        "conversation": format_messages(ctx.history, tz),
        "customer_messages": format_messages(
            [m for m in ctx.new_messages if m.author is MessageAuthor.LEAD], tz
        ),
    }


def eyes_values(ctx: TurnContext) -> dict[str, str]:
    return {**_organisation_values(ctx), **_state_values(ctx)}


def _eyes_json(eyes: EyesOutput) -> str:
    return neutralise(eyes.model_dump_json())


def brain_values(ctx: TurnContext, eyes: EyesOutput, retrieval: Retrieval) -> dict[str, str]:
    return {
        **_organisation_values(ctx),
        **_state_values(ctx),
        "observation": _eyes_json(eyes),
        "knowledge": format_knowledge(retrieval),
        "ctas": format_ctas(ctx),
    }


def mouth_values(
    ctx: TurnContext,
    eyes: EyesOutput,
    brain: BrainOutput,
    retrieval: Retrieval,
    violations: Sequence[str] = (),
) -> dict[str, str]:
    cta = ctx.cta(brain.cta_id)
    decision = {
        "action": brain.action.value,
        "new_stage": brain.new_stage.value,
        "plan": brain.plan,
        "cta": (
            {"id": cta.id, "type": cta.type.value, "label": cta.label, "url": cta.url}
            if cta
            else None
        ),
    }
    return {
        **_organisation_values(ctx),
        **_state_values(ctx),
        "customer_language": eyes.language,
        "decision": neutralise(json.dumps(decision, ensure_ascii=False)),
        "knowledge": format_knowledge(retrieval),
        "allowed_domains": ", ".join(ctx.org.allowed_link_domains) or "(none)",
        "violations": (
            "\n".join(f"- {neutralise(v)}" for v in violations) if violations else "(first attempt)"
        ),
    }


def memory_values(ctx: TurnContext, exchange: Exchange) -> dict[str, str]:
    tz = ctx.local_now.tzinfo
    assert tz is not None
    return {
        "business_name": ctx.org.business_name,
        "local_time": ctx.local_now.strftime("%Y-%m-%d %H:%M") + f" ({ctx.org.timezone})",
        "rolling_summary": neutralise(ctx.state.rolling_summary) or "(no summary yet)",
        "lead_facts": neutralise(ctx.state.lead_facts.model_dump_json(exclude_none=True)),
        "exchange": format_messages(exchange.messages, tz),
        "action": exchange.action.value if exchange.action else "(none)",
        "stage": (exchange.stage or ctx.state.stage).value,
    }
