"""The four-stage pipeline behind the worker's :class:`~funnel.core.turns.contract.Pipeline`.

It translates the worker's :class:`Turn` (rows read from the database) into the stages'
:class:`~funnel.core.htl.schemas.TurnContext`, runs Eyes → retrieval → Brain → policy → Mouth
(:func:`funnel.core.htl.turn.run_turn`), and translates the outcome back into a
:class:`TurnResult`: the state changes, the replies as Graph message bodies, the trace.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from funnel.core.htl.context import build_turn_context
from funnel.core.htl.enums import Action, MessageKind, TurnTrigger
from funnel.core.htl.enums import ConversationMode as HtlMode
from funnel.core.htl.enums import ConversationStage as HtlStage
from funnel.core.htl.enums import CtaState as HtlCtaState
from funnel.core.htl.enums import IntentLevel as HtlIntent
from funnel.core.htl.enums import MessageAuthor as HtlAuthor
from funnel.core.htl.enums import Sentiment as HtlSentiment
from funnel.core.htl.enums import TemplatePurpose as HtlPurpose
from funnel.core.htl.mouth_rules import to_graph_body
from funnel.core.htl.policy import next_allowed_time
from funnel.core.htl.prompts import default_registry
from funnel.core.htl.schemas import (
    ChatMessage,
    ConversationState,
    CtaOption,
    Exchange,
    LeadFacts,
    MemoryOutput,
    OrgProfile,
    QuietHours,
    TurnContext,
)
from funnel.core.htl.stages import StageConfig, StageModels, StageTrace, summarise
from funnel.core.htl.turn import Retriever, TurnOutcome, run_turn
from funnel.core.llm.base import LlmClient
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    CtaState,
    IntentLevel,
    MessageType,
    OutboxKind,
    ScheduledActionKind,
    Sentiment,
    TemplatePurpose,
)
from funnel.core.sending.planner import purpose_for_action
from funnel.core.settings import Settings
from funnel.core.turns.contract import (
    ConversationUpdate,
    OutboundReply,
    ScheduledFollowUp,
    StepTrace,
    Turn,
    TurnMessage,
    TurnResult,
)


@dataclass(frozen=True, slots=True)
class MemoryUpdate:
    """Memory's result: ``output`` ``None`` means keep the old summary and facts."""

    output: MemoryOutput | None
    traces: tuple[StageTrace, ...] = ()

    @property
    def input_tokens(self) -> int:
        return sum(t.input_tokens for t in self.traces)


_FACT_KEYS = frozenset({"name", "email", "company", "needs"})
_ENVELOPE_KEYS = frozenset(
    {"messaging_product", "recipient_type", "to", "recipient", "biz_opaque_callback_data"}
)


def _quiet_hours(raw: dict[str, Any]) -> QuietHours | None:
    try:
        return QuietHours.model_validate(raw) if raw.get("start") and raw.get("end") else None
    except ValueError:
        return None


def _chat(message: TurnMessage) -> ChatMessage:
    content = message.content or {}
    reply_id: str | None = None
    interactive = content.get("interactive") or {}
    for key in ("button_reply", "list_reply"):
        if isinstance(interactive.get(key), dict):
            reply_id = interactive[key].get("id")
    if isinstance(content.get("button"), dict):
        reply_id = content["button"].get("payload") or reply_id
    text = message.text or f"[{message.type.value}]"
    return ChatMessage(
        author=HtlAuthor(message.author.value),
        text=text[:2000],
        at=message.at,
        reply_id=reply_id,
        reaction=message.type is MessageType.REACTION,
    )


def reply_id(message: TurnMessage) -> str | None:
    """The id of the button or list row a customer tapped (``None`` for anything else)."""
    return _chat(message).reply_id


def accepted_cta(turn: Turn) -> uuid.UUID | None:
    """The CTA the customer accepted by tapping its button this turn, if any.

    Buttons the pipeline sends for a CTA carry ``cta:<cta id>:accept`` (and ``…:later``); a
    button whose id is the CTA's id alone is accepted too, so a template quick-reply configured
    with the CTA id works the same way. Only the organisation's active CTAs count.
    """
    active = {str(c.id): c.id for c in turn.ctas}
    for message in turn.new_messages:
        tapped = reply_id(message)
        if not tapped:
            continue
        parts = tapped.split(":")
        if len(parts) == 3 and parts[0] == "cta" and parts[2] == "accept" and parts[1] in active:
            return active[parts[1]]
        if tapped in active:
            return active[tapped]
    return None


def to_context(turn: Turn, history_budget_tokens: int | None = None) -> TurnContext:
    org = turn.organisation
    conversation = turn.conversation
    extra: dict[str, Any] = {}
    if history_budget_tokens is not None:
        extra["history_budget_tokens"] = history_budget_tokens
    return build_turn_context(
        org=OrgProfile(
            organisation_id=str(org.id),
            business_name=(org.business_name or org.name)[:200],
            business_description=org.business_description[:2000],
            persona_prompt=org.persona_prompt[:4000],
            flow_prompt=org.flow_prompt[:4000],
            timezone=org.timezone,
            language=org.default_language or "en",
            reply_word_limit=max(10, min(org.reply_word_limit, 500)),
            allowed_link_domains=list(org.allowed_link_domains),
            handoff_notice=org.notify_customer_on_handoff,
            quiet_hours=_quiet_hours(org.quiet_hours),
            template_purposes=frozenset(
                HtlPurpose(t.purpose.value) for t in turn.templates if t.usable and t.purpose
            ),
        ),
        state=ConversationState(
            mode=HtlMode(conversation.mode.value),
            stage=HtlStage(conversation.stage.value),
            intent_level=HtlIntent(conversation.intent_level.value),
            sentiment=HtlSentiment(conversation.sentiment.value),
            cta_id=str(conversation.cta_id) if conversation.cta_id else None,
            cta_state=HtlCtaState(conversation.cta_state.value) if conversation.cta_state else None,
            rolling_summary=conversation.rolling_summary[:1500],
            lead_facts=LeadFacts.model_validate(
                {
                    k: v
                    for k, v in turn.lead.facts.items()
                    if k in {"name", "email", "company", "needs"}
                }
            ),
            opted_out=turn.lead.opted_out,
            needs_attention=conversation.needs_attention,
            followup_count_24h=conversation.followups_sent_24h,
            total_nudges=conversation.total_nudges,
            window_open=conversation.window_open(turn.now),
            window_closes_at=conversation.window_expires_at,
        ),
        earlier_messages=[
            _chat(m) for m in turn.history if m.text or m.type is not MessageType.SYSTEM
        ],
        new_messages=[_chat(m) for m in turn.new_messages],
        ctas=[
            CtaOption(id=str(c.id), label=c.name[:120], url=c.url, type=c.type)  # type: ignore[arg-type]
            for c in turn.ctas
        ],
        trigger=TurnTrigger.FOLLOWUP if turn.trigger != "message" else TurnTrigger.CUSTOMER,
        followup_hint=turn.followup_hint,
        now=turn.now,
        **extra,
    )


def _message_part(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _ENVELOPE_KEYS}


def _fallback_purpose(action: Action, turn: Turn) -> TemplatePurpose:
    """The template a free-form reply turns into if the window closed after Brain decided (a
    131047 arrived meanwhile); the same mapping the policy uses for a window closed up front."""
    return purpose_for_action(action.value, followup=turn.trigger != "message")


def to_result(turn: Turn, outcome: TurnOutcome, *, provider: str, is_offline: bool) -> TurnResult:
    decision = outcome.decision
    eyes = outcome.eyes
    replies: list[OutboundReply] = []
    if outcome.reply is not None and not decision.opt_out:
        reply = outcome.reply
        reply_to = turn.new_messages[-1].wamid if len(turn.new_messages) > 1 else None
        body = to_graph_body(reply, "0", reply_to=reply_to)
        replies.append(
            OutboundReply(
                kind=OutboxKind.MESSAGE,
                message=_message_part(body),
                preview=reply.text[:200],
                message_type=MessageType.TEXT
                if reply.kind is MessageKind.TEXT
                else MessageType.INTERACTIVE,
                purpose=_fallback_purpose(decision.action, turn),
            )
        )
    elif decision.template_purpose is not None and not decision.opt_out:
        # The window is closed: the policy chose the organisation's approved template for this
        # purpose (a template send, or a handoff notice). The send planner fills it in.
        replies.append(
            OutboundReply(
                kind=OutboxKind.TEMPLATE,
                message={},
                preview="",
                message_type=MessageType.TEMPLATE,
                purpose=TemplatePurpose(decision.template_purpose.value),
            )
        )
    handoff = decision.action is Action.HANDOFF
    cta_id: uuid.UUID | None = None
    cta_state: CtaState | None = None
    if decision.action is Action.INITIATE_CTA and decision.cta_id:
        try:
            cta_id = uuid.UUID(decision.cta_id)
            cta_state = CtaState.OFFERED
        except ValueError:
            cta_id = None
    accepted = accepted_cta(turn)
    if accepted is not None:
        cta_id, cta_state = accepted, CtaState.ACCEPTED
    scheduled: list[ScheduledFollowUp] = []
    if decision.action is Action.WAIT and decision.followup_delay_minutes:
        due = turn.now + dt.timedelta(minutes=decision.followup_delay_minutes)
        ctx = outcome.ctx
        due = next_allowed_time(due, ctx.org.quiet_hours, ctx.org.timezone)
        scheduled.append(
            ScheduledFollowUp(
                kind=ScheduledActionKind.WAIT_RESUME.value,
                due_at=due,
                payload={"reason": decision.plan[:500]},
            )
        )
    update = ConversationUpdate(
        mode=ConversationMode.HUMAN if handoff else None,
        stage=ConversationStage(decision.new_stage.value),
        intent_level=IntentLevel(eyes.intent_level.value),
        sentiment=Sentiment(eyes.sentiment.value),
        needs_attention=True if (decision.needs_attention or handoff) else None,
        attention_reason=decision.attention_reason
        or ("Handed off to a person" if handoff else None),
        cta_id=cta_id,
        cta_state=cta_state,
        opted_out=True if decision.opt_out else None,
    )
    steps: list[StepTrace] = []
    calls: dict[str, int] = {}
    for t in outcome.traces:
        calls[t.stage.value] = calls.get(t.stage.value, 0) + 1
        output = dict(t.output or {})
        if t.violations:
            output["violations"] = list(t.violations)
        if t.fallback:
            output["fallback"] = True
        steps.append(
            StepTrace(
                stage=t.stage.value,
                model=t.model,
                prompt_version=t.prompt_version,
                latency_ms=t.latency_ms,
                input_tokens=t.input_tokens,
                output_tokens=t.output_tokens,
                output=output,
                error=t.error,
                attempt=calls[t.stage.value],
            )
        )
    if outcome.retrieval.attempted:
        steps.append(
            StepTrace(
                stage="rag",
                model="hybrid",
                prompt_version="",
                latency_ms=0.0,
                input_tokens=0,
                output_tokens=0,
                output=outcome.retrieval.model_dump(mode="json"),
                error=outcome.retrieval_error,
            )
        )
    steps.append(
        StepTrace(
            stage="policy",
            model="rules",
            prompt_version="",
            latency_ms=0.0,
            input_tokens=0,
            output_tokens=0,
            output=decision.model_dump(mode="json", exclude={"overrides"}),
            overrides=[o.model_dump(mode="json") for o in decision.overrides],
        )
    )
    return TurnResult(
        provider=provider,
        is_offline=is_offline,
        replies=tuple(replies),
        update=update,
        steps=tuple(steps),
        decision={
            "action": decision.action.value,
            "new_stage": decision.new_stage.value,
            "plan": decision.plan,
            "cta_id": decision.cta_id,
            "template_purpose": decision.template_purpose.value
            if decision.template_purpose
            else None,
            "needs_attention": decision.needs_attention,
            "attention_reason": decision.attention_reason,
            "overrides": [o.model_dump(mode="json") for o in decision.overrides],
            "skipped": outcome.skipped,
            "cta_accepted": str(accepted) if accepted else None,
            "knowledge": [c.chunk_id for c in outcome.retrieval.usable_chunks],
        },
        scheduled=tuple(scheduled),
    )


class HtlPipeline:
    """Eyes, retrieval, Brain, policy and Mouth for one turn (Memory runs after the send)."""

    def __init__(
        self,
        client: LlmClient,
        *,
        settings: Settings,
        retriever: Retriever | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.retriever = retriever
        self._registry = default_registry()

    async def run_turn(self, turn: Turn) -> TurnResult:
        config = StageConfig(
            models=StageModels.from_settings(self.settings.llm, turn.organisation.llm_models),
            registry=self._registry,
            timeout_s=self.settings.llm.timeout_s,
        )
        ctx = to_context(turn)
        outcome = await run_turn(self.client, ctx, retriever=self.retriever, config=config)
        return to_result(
            turn, outcome, provider=self.client.provider, is_offline=self.client.is_offline
        )

    async def summarise(self, turn: Turn, messages: Sequence[TurnMessage]) -> MemoryUpdate:
        """Memory: fold ``messages`` (everything since the last summary: the customer's, the
        bot's, human agents' and follow-ups) into the conversation's rolling summary and lead
        facts. ``turn`` carries the current summary and facts (no new messages)."""
        config = StageConfig(
            models=StageModels.from_settings(self.settings.llm, turn.organisation.llm_models),
            registry=self._registry,
            timeout_s=self.settings.llm.timeout_s,
        )
        ctx = to_context(turn)
        exchange = Exchange(
            messages=[_chat(m) for m in messages if m.text or m.type is not MessageType.SYSTEM],
            stage=HtlStage(turn.conversation.stage.value),
        )
        result = await summarise(self.client, ctx, exchange, config=config)
        return MemoryUpdate(output=result.output, traces=tuple(result.traces))
