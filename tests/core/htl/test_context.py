"""The prompt stays bounded however long the conversation grows."""

from __future__ import annotations

import pytest

from funnel.core.htl import render
from funnel.core.htl.context import build_turn_context, message_tokens, select_recent_messages
from funnel.core.htl.enums import MessageAuthor
from funnel.core.htl.prompts import default_registry
from funnel.core.htl.schemas import SUMMARY_MAX, ChatMessage, ConversationState, Retrieval
from funnel.core.htl.stages import conservative_observation
from funnel.core.htl.text import estimate_tokens
from funnel.core.llm.base import Stage
from tests.core.htl.factories import msg, org


def conversation(n: int) -> list[ChatMessage]:
    messages = []
    for i in range(n):
        author = MessageAuthor.LEAD if i % 2 == 0 else MessageAuthor.BOT
        text = f"Message {i}: we talked about roof size, the bill and subsidy options again."
        messages.append(msg(text, author=author, minutes_ago=(n - i) * 3))
    return messages


def test_newest_messages_are_kept_oldest_first() -> None:
    earlier = conversation(10)
    selected = select_recent_messages(earlier, budget_tokens=5 * message_tokens(earlier[0]))
    assert selected == earlier[-5:]


def test_the_current_turn_is_charged_first_and_always_kept() -> None:
    earlier = conversation(10)
    burst = [msg("one " * 100), msg("two " * 100)]
    context = build_turn_context(
        org=org(),
        state=ConversationState(),
        earlier_messages=earlier,
        new_messages=burst,
        history_budget_tokens=sum(message_tokens(m) for m in burst) + message_tokens(earlier[0]),
    )
    assert context.new_messages == burst
    assert context.history == earlier[-1:]


def test_a_burst_larger_than_the_budget_still_goes_in_whole() -> None:
    burst = [msg("long " * 500)]
    context = build_turn_context(
        org=org(),
        state=ConversationState(),
        earlier_messages=conversation(5),
        new_messages=burst,
        history_budget_tokens=10,
    )
    assert context.new_messages == burst
    assert context.history == []


def test_selection_stops_at_the_first_message_that_does_not_fit() -> None:
    # A long message in the middle ends the history: no holes in what the model sees.
    earlier = [msg("old short"), msg("x " * 800), msg("new short")]
    selected = select_recent_messages(earlier, budget_tokens=50)
    assert [m.text for m in selected] == ["new short"]


def test_devanagari_costs_more_tokens_than_latin_of_the_same_length() -> None:
    assert estimate_tokens("नमस्ते" * 10) > estimate_tokens("namaste" * 10) * 0.9


def _prompt_tokens(stage: Stage, total_messages: int, summary_chars: int) -> int:
    messages = conversation(total_messages)
    summary = ("Customer has a 2 kW need, asked about price and subsidy. " * 40)[:summary_chars]
    context = build_turn_context(
        org=org(),
        state=ConversationState(rolling_summary=summary),
        earlier_messages=messages[:-1],
        new_messages=messages[-1:],
    )
    if stage is Stage.EYES:
        values = render.eyes_values(context)
    else:
        eyes = conservative_observation(context)
        values = render.brain_values(context, eyes, Retrieval.skipped())
    rendered = default_registry().render(stage, values)
    return estimate_tokens(rendered.system) + estimate_tokens(rendered.prompt)


@pytest.mark.parametrize("stage", [Stage.EYES, Stage.BRAIN])
def test_prompt_size_is_roughly_constant_from_turn_5_to_turn_100(stage: Stage) -> None:
    # Turn 5: ten messages so far and a short summary (Memory has run four times). Turn 100 and
    # turn 500: the summary at its cap, the history at its budget.
    at_5 = _prompt_tokens(stage, 10, 600)
    at_100 = _prompt_tokens(stage, 200, SUMMARY_MAX)
    at_500 = _prompt_tokens(stage, 1000, SUMMARY_MAX)
    # The benchmark bound: turn 100 at most 1.25x turn 5.
    assert at_100 <= 1.25 * at_5, (at_5, at_100)
    assert at_500 == at_100
