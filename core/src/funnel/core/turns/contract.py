"""What the worker hands the pipeline for one turn, and what it gets back.

The worker owns the data plane: it loads the conversation, runs the pipeline, and persists the
result (state changes, the trace, the replies into the outbox) in one transaction. The pipeline
owns the intelligence and touches the database only to read knowledge. Keeping that line makes
both testable alone: the data-plane tests run a deterministic pipeline, the pipeline's tests run
without Kafka.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    CtaState,
    IntentLevel,
    MessageAuthor,
    MessageType,
    OutboxKind,
    Sentiment,
    TemplatePurpose,
)
from funnel.core.sending.planner import TemplateCandidate


@dataclass(frozen=True, slots=True)
class TurnMessage:
    id: uuid.UUID
    author: MessageAuthor
    type: MessageType
    text: str | None
    content: dict[str, Any]
    at: dt.datetime
    wamid: str | None = None


@dataclass(frozen=True, slots=True)
class OrganisationProfile:
    id: uuid.UUID
    name: str
    business_name: str
    business_description: str
    persona_prompt: str
    flow_prompt: str
    timezone: str
    default_language: str
    reply_word_limit: int
    allowed_link_domains: tuple[str, ...] = ()
    llm_models: dict[str, str] = field(default_factory=dict)
    quiet_hours: dict[str, Any] = field(default_factory=dict)
    followup_policy: dict[str, Any] = field(default_factory=dict)
    #: A human takeover goes back to the bot after this long without the person writing.
    auto_release_minutes: int = 120
    #: Tell the customer a person will follow up when the bot hands off.
    notify_customer_on_handoff: bool = True


@dataclass(frozen=True, slots=True)
class ConversationSnapshot:
    id: uuid.UUID
    lead_id: uuid.UUID
    channel_id: uuid.UUID
    mode: ConversationMode
    stage: ConversationStage
    intent_level: IntentLevel
    sentiment: Sentiment
    needs_attention: bool
    cta_id: uuid.UUID | None
    cta_state: CtaState | None
    rolling_summary: str
    followups_sent_24h: int
    total_nudges: int
    last_inbound_at: dt.datetime | None
    window_expires_at: dt.datetime | None

    def window_open(self, now: dt.datetime) -> bool:
        return self.window_expires_at is not None and now < self.window_expires_at


@dataclass(frozen=True, slots=True)
class LeadSnapshot:
    id: uuid.UUID
    wa_id: str | None
    bsuid: str | None
    name: str | None
    language: str | None
    opted_out: bool
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CtaOption:
    id: uuid.UUID
    type: str
    name: str
    url: str | None
    button_text: str | None


@dataclass(frozen=True, slots=True)
class Turn:
    """Everything one turn needs, read in one short transaction before any LLM call."""

    organisation: OrganisationProfile
    conversation: ConversationSnapshot
    lead: LeadSnapshot
    #: The customer's messages this turn answers (a debounced burst can be several), oldest first.
    new_messages: tuple[TurnMessage, ...]
    #: Earlier messages, oldest first, newest last; the pipeline trims them to its token budget.
    history: tuple[TurnMessage, ...]
    ctas: tuple[CtaOption, ...]
    now: dt.datetime
    correlation_id: str
    #: Set when the turn was started by a scheduled action (a follow-up) rather than a message.
    trigger: str = "message"
    #: The organisation's approved templates with a purpose (what a closed window allows).
    templates: tuple[TemplateCandidate, ...] = ()
    #: On a follow-up turn: the sequence step's ``message_hint``, or a wait's reason.
    followup_hint: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """One message to send: the Graph body's message part (``type`` and its object)."""

    kind: OutboxKind
    #: ``{"type": "text", "text": {...}}`` and friends; ``to``/callback are added by the worker.
    message: dict[str, Any]
    #: A short text for the timeline and the conversation preview.
    preview: str
    message_type: MessageType = MessageType.TEXT
    #: The template purpose the send planner falls back to if the window is closed when the
    #: reply is queued; for ``kind=TEMPLATE`` the template to send (``message`` is then empty).
    purpose: TemplatePurpose | None = None


@dataclass(frozen=True, slots=True)
class StepTrace:
    stage: str
    model: str
    prompt_version: str
    latency_ms: float
    input_tokens: int
    output_tokens: int
    output: dict[str, Any]
    error: str | None = None
    overrides: list[dict[str, Any]] = field(default_factory=list)
    #: 1 for a stage's first call; a regenerated Mouth reply is attempt 2.
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class ScheduledFollowUp:
    kind: str
    due_at: dt.datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationUpdate:
    """State the turn changes; ``None`` leaves a field as it is."""

    mode: ConversationMode | None = None
    stage: ConversationStage | None = None
    intent_level: IntentLevel | None = None
    sentiment: Sentiment | None = None
    needs_attention: bool | None = None
    attention_reason: str | None = None
    cta_id: uuid.UUID | None = None
    cta_state: CtaState | None = None
    opted_out: bool | None = None


@dataclass(frozen=True, slots=True)
class TurnResult:
    provider: str
    is_offline: bool
    replies: tuple[OutboundReply, ...] = ()
    update: ConversationUpdate = ConversationUpdate()
    steps: tuple[StepTrace, ...] = ()
    decision: dict[str, Any] = field(default_factory=dict)
    scheduled: tuple[ScheduledFollowUp, ...] = ()
    error: str | None = None

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens for s in self.steps)

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens for s in self.steps)


class Pipeline(Protocol):
    """Decides what to do with one turn. Must not write to the database."""

    async def run_turn(self, turn: Turn) -> TurnResult: ...
