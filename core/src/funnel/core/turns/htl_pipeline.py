"""The four-stage pipeline behind the worker's :class:`~funnel.core.turns.contract.Pipeline`.

It translates the worker's :class:`Turn` (rows read from the database) into the stages'
:class:`~funnel.core.htl.schemas.TurnContext`, runs Eyes → retrieval → Brain → policy → Mouth
(:func:`funnel.core.htl.turn.run_turn`), and translates the outcome back into a
:class:`TurnResult`: the state changes, the replies as Graph message bodies, the trace.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from funnel.core.htl.context import build_turn_context
from funnel.core.htl.enums import Action, MessageKind, TurnTrigger
from funnel.core.htl.enums import ConversationMode as HtlMode
from funnel.core.htl.enums import ConversationStage as HtlStage
from funnel.core.htl.enums import CtaState as HtlCtaState
from funnel.core.htl.enums import IntentLevel as HtlIntent
from funnel.core.htl.enums import MessageAuthor as HtlAuthor
from funnel.core.htl.enums import Sentiment as HtlSentiment
from funnel.core.htl.mouth_rules import to_graph_body
from funnel.core.htl.policy import next_allowed_time
from funnel.core.htl.prompts import default_registry
from funnel.core.htl.schemas import (
    ChatMessage,
    ConversationState,
    CtaOption,
    LeadFacts,
    OrgProfile,
    QuietHours,
    TurnContext,
)
from funnel.core.htl.stages import StageConfig, StageModels
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
)
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
            quiet_hours=_quiet_hours(org.quiet_hours),
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
        now=turn.now,
        **extra,
    )


def _message_part(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _ENVELOPE_KEYS}


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
            )
        )
    handoff = decision.action is Action.HANDOFF
    cta_id: uuid.UUID | None = None
    if decision.action is Action.INITIATE_CTA and decision.cta_id:
        try:
            cta_id = uuid.UUID(decision.cta_id)
        except ValueError:
            cta_id = None
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
        cta_state=CtaState.OFFERED if cta_id else None,
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
