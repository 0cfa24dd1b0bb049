"""Assembling a turn's context: which earlier messages fit the token budget.

The original always sent the last ten messages, whatever their size, and nothing older. Here the
prompt gets the newest messages that fit a token budget, the rolling summary carries the rest, and
the current turn's messages are always shown in full (they are what the turn is about), so the
prompt stays about the same size at turn 5 and at turn 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from funnel.core.htl.enums import TurnTrigger
from funnel.core.htl.schemas import (
    ChatMessage,
    ConversationState,
    CtaOption,
    OrgProfile,
    TurnContext,
)
from funnel.core.htl.text import estimate_tokens

#: Tokens of earlier conversation a prompt may carry: about 1,600 characters, 10–15 WhatsApp
#: messages (the original's fixed window was 10). The rolling summary (≤1,500 characters) covers
#: everything older. Sized so a prompt at turn 100 is at most 1.25x the prompt at turn 5
#: (the issue's bound, checked in ``tests/core/htl/test_context.py``); a bigger budget buys
#: little, because the summary already carries what matters from older turns.
DEFAULT_HISTORY_BUDGET = 400

# What one message costs beyond its text: the author, the time and the line's framing.
_MESSAGE_OVERHEAD_TOKENS = 8


def message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.text) + _MESSAGE_OVERHEAD_TOKENS


def select_recent_messages(
    messages: Sequence[ChatMessage],
    *,
    budget_tokens: int,
    current: Sequence[ChatMessage] = (),
) -> list[ChatMessage]:
    """The newest of ``messages`` that fit ``budget_tokens``, oldest first.

    ``messages`` is the conversation before this turn, oldest first. The ``current`` turn's
    messages are charged against the budget first, because they are always shown; a long burst
    therefore leaves less room for history, never the other way round. Selection stops at the
    first message that does not fit, so the history shown is always a contiguous tail: skipping a
    long message to squeeze in older ones would show the model a conversation with a hole in it.
    """
    remaining = budget_tokens - sum(message_tokens(m) for m in current)
    current_ids = {id(m) for m in current}
    selected: list[ChatMessage] = []
    for message in reversed(messages):
        if id(message) in current_ids:
            continue
        cost = message_tokens(message)
        if cost > remaining:
            break
        selected.append(message)
        remaining -= cost
    selected.reverse()
    return selected


def build_turn_context(
    *,
    org: OrgProfile,
    state: ConversationState,
    earlier_messages: Sequence[ChatMessage],
    new_messages: Sequence[ChatMessage],
    ctas: Sequence[CtaOption] = (),
    trigger: TurnTrigger = TurnTrigger.CUSTOMER,
    now: datetime | None = None,
    history_budget_tokens: int = DEFAULT_HISTORY_BUDGET,
    followup_hint: str | None = None,
) -> TurnContext:
    """A :class:`TurnContext` with the history cut to the budget."""
    history = select_recent_messages(
        earlier_messages, budget_tokens=history_budget_tokens, current=new_messages
    )
    return TurnContext(
        org=org,
        state=state,
        ctas=list(ctas),
        history=history,
        new_messages=list(new_messages),
        trigger=trigger,
        followup_hint=(followup_hint or "").strip() or None
        if trigger is TurnTrigger.FOLLOWUP
        else None,
        now=now or datetime.now(UTC),
    )
