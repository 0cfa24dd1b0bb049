"""One turn through the stages: Eyes → retrieval → Brain → policy → Mouth.

Pure orchestration over the stage functions, with retrieval injected, so the worker, the API's
dry-run and the tests run the same sequence. Persistence, sending and Memory (which runs after
the reply is sent, off its critical path) belong to the caller; :meth:`TurnOutcome.exchange`
gives Memory its input.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from funnel.core.htl.enums import Action, ConversationMode, MessageAuthor
from funnel.core.htl.policy import FinalDecision, apply_policy, handoff_after_failure
from funnel.core.htl.schemas import (
    BrainOutput,
    ChatMessage,
    Exchange,
    EyesOutput,
    MouthOutput,
    Retrieval,
    TurnContext,
)
from funnel.core.htl.stages import (
    StageConfig,
    StageResult,
    StageTrace,
    conservative_observation,
    decide,
    observe,
    respond,
)
from funnel.core.llm.base import LlmClient

log = logging.getLogger(__name__)


class Retriever(Protocol):
    """Hybrid search over the organisation's knowledge (filtered by tenant in SQL)."""

    async def __call__(self, ctx: TurnContext, query: str) -> Retrieval: ...


@dataclass(slots=True)
class TurnOutcome:
    ctx: TurnContext
    eyes: EyesOutput
    retrieval: Retrieval
    brain: BrainOutput | None
    decision: FinalDecision
    reply: MouthOutput | None
    traces: list[StageTrace] = field(default_factory=list)
    #: Set when the models were not consulted at all (human mode, opted out).
    skipped: str | None = None
    retrieval_error: str | None = None

    def exchange(self, reply_text: str | None = None) -> Exchange:
        """Memory's input: this turn's customer messages and the reply actually sent."""
        messages: list[ChatMessage] = list(self.ctx.new_messages)
        text = reply_text if reply_text is not None else (self.reply.text if self.reply else None)
        if text:
            messages.append(ChatMessage(author=MessageAuthor.BOT, text=text, at=self.ctx.now))
        return Exchange(
            messages=messages, action=self.decision.action, stage=self.decision.new_stage
        )


async def run_turn(
    client: LlmClient,
    ctx: TurnContext,
    *,
    retriever: Retriever | None = None,
    config: StageConfig | None = None,
) -> TurnOutcome:
    config = config or StageConfig.default()
    # A person owns the conversation, or the lead opted out: the policy's answer is known
    # without asking a model, so no tokens are spent and nothing can leak into a reply.
    if ctx.state.mode is not ConversationMode.BOT or ctx.state.opted_out:
        eyes = conservative_observation(ctx)
        idle = BrainOutput(action=Action.IGNORE, new_stage=ctx.state.stage, confidence=1.0)
        return TurnOutcome(
            ctx=ctx,
            eyes=eyes,
            retrieval=Retrieval.skipped(),
            brain=None,
            decision=apply_policy(ctx, eyes, idle),
            reply=None,
            skipped="human mode" if ctx.state.mode is not ConversationMode.BOT else "opted out",
        )

    traces: list[StageTrace] = []
    seen: StageResult[EyesOutput] = await observe(client, ctx, config=config)
    traces += seen.traces
    eyes = seen.output

    retrieval = Retrieval.skipped()
    retrieval_error: str | None = None
    if eyes.knowledge_needed and retriever is not None:
        query = eyes.search_query or ctx.customer_text
        try:
            retrieval = await retriever(ctx, query)
        except Exception as exc:
            # Without knowledge the turn still runs: ungrounded, so no facts get stated.
            retrieval = Retrieval(query=query, attempted=True)
            retrieval_error = type(exc).__name__
            log.warning("htl.retrieval_failed", extra={"error_type": retrieval_error})

    decided = await decide(client, ctx, eyes, retrieval, config=config)
    traces += decided.traces
    decision = apply_policy(ctx, eyes, decided.output)

    reply: MouthOutput | None = None
    if decision.compose_reply:
        spoken = await respond(client, ctx, eyes, decision, retrieval, config=config)
        traces += spoken.traces
        reply = spoken.output
        if reply is None:
            decision = handoff_after_failure(decision, spoken.fallback_reason or "no reply")
    return TurnOutcome(
        ctx=ctx,
        eyes=eyes,
        retrieval=retrieval,
        brain=decided.output,
        decision=decision,
        reply=reply,
        traces=traces,
        retrieval_error=retrieval_error,
    )
