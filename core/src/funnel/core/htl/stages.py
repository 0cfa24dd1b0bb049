"""The four stages as typed async functions over an :class:`LlmClient`.

Each stage renders its versioned prompt, calls the model for a validated output and returns a
:class:`StageResult`: the output (or the stage's fallback), plus one :class:`StageTrace` per model
call for the turn's trace. What each stage does when the model fails is decided here, per stage,
and never involves a canned message to the customer:

======== ===============================================================================
Eyes     a conservative observation (state carried over, confidence 0, knowledge needed
         when the message reads as a question), recorded as an error.
Brain    hand off to a person with the reason "decision unavailable": a failure is
         visible on the dashboard instead of a silent non-reply.
Mouth    a reply that breaks the rules (or is not valid JSON) is regenerated once with the
         violations fed back; if the second one fails too, no reply and the caller hands off.
Memory   the old summary is kept; no placeholder text is ever saved over it.
======== ===============================================================================

Only :class:`~funnel.core.llm.base.LlmError` is treated as a model failure. Anything else is a
bug and propagates.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from funnel.core.htl import render
from funnel.core.htl.enums import Action, CustomerIntent, RiskLevel
from funnel.core.htl.mouth_rules import Violation, check_reply
from funnel.core.htl.policy import FinalDecision
from funnel.core.htl.prompts import PromptRegistry, RenderedPrompt, default_registry
from funnel.core.htl.schemas import (
    BrainOutput,
    Exchange,
    EyesOutput,
    MemoryOutput,
    MouthOutput,
    Retrieval,
    RiskFlags,
    TurnContext,
)
from funnel.core.htl.text import guess_language, words
from funnel.core.llm.base import (
    LlmClient,
    LlmError,
    LlmInvalidOutput,
    LlmRequest,
    LlmResult,
    Stage,
)
from funnel.core.settings import LlmSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: Observation and decision want consistency; the reply wants a little life; the summary wants
#: facts. (The original ran Mouth and Memory at the provider's default 0.7.)
TEMPERATURES: dict[Stage, float] = {
    Stage.EYES: 0.2,
    Stage.BRAIN: 0.25,
    Stage.MOUTH: 0.6,
    Stage.MEMORY: 0.2,
}
MAX_OUTPUT_TOKENS: dict[Stage, int] = {
    Stage.EYES: 1024,
    Stage.BRAIN: 1024,
    Stage.MOUTH: 1536,
    Stage.MEMORY: 1024,
}

#: Summaries a model writes when it has nothing to say. Saving one would erase the real memory.
_PLACEHOLDER_SUMMARY = re.compile(
    r"^\W*(?:no summary(?: available)?|n/?a|none|null|todo|tbd|summary|empty|-+)\W*$",
    re.IGNORECASE,
)
_QUESTION_WORDS_TEXT = (
    "what how when where which who why whats can could do does is are will price cost "
    "kya kaise kab kahan kaun kitna kitne kitni kyun"
)
_QUESTION_WORDS = frozenset(_QUESTION_WORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class StageModels:
    """The model each stage calls. Per organisation: settings first, then its overrides."""

    eyes: str
    brain: str
    mouth: str
    memory: str

    @classmethod
    def from_settings(
        cls, settings: LlmSettings, overrides: Mapping[str, str] | None = None
    ) -> StageModels:
        chosen = {
            "eyes": settings.eyes_model,
            "brain": settings.brain_model,
            "mouth": settings.mouth_model,
            "memory": settings.memory_model,
        }
        for stage, model in (overrides or {}).items():
            if stage not in chosen:
                raise ValueError(f"no stage named {stage!r}")
            if model:
                chosen[stage] = model
        return cls(**chosen)

    def for_stage(self, stage: Stage) -> str:
        model: str = getattr(self, stage.value)
        return model


@dataclass(frozen=True, slots=True)
class StageConfig:
    models: StageModels
    registry: PromptRegistry
    timeout_s: float = 30.0

    @classmethod
    def default(cls) -> StageConfig:
        # LlmSettings() is a plain model here: it reads no environment, only the defaults.
        return cls(models=StageModels.from_settings(LlmSettings()), registry=default_registry())


@dataclass(slots=True)
class StageTrace:
    """One model call as the turn's trace records it."""

    stage: Stage
    provider: str
    model: str
    prompt_version: str
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    output: dict[str, Any] | None = None
    error: str | None = None
    error_type: str | None = None
    attempts: int = 1
    #: True when the stage's output is its fallback rather than the model's answer.
    fallback: bool = False
    #: Mouth: the rule violations that made this attempt unusable.
    violations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage.value,
            "provider": self.provider,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "latency_ms": round(self.latency_ms, 2),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "output": self.output,
            "error": self.error,
            "error_type": self.error_type,
            "attempts": self.attempts,
            "fallback": self.fallback,
            "violations": list(self.violations),
        }


@dataclass(slots=True)
class StageResult(Generic[T]):
    output: T
    traces: list[StageTrace]
    #: The model call whose output was used; ``None`` when the output is the fallback.
    llm: LlmResult[Any] | None = None
    #: Why the fallback was used (``None`` when the model's output was used).
    fallback_reason: str | None = None
    #: Mouth: the violations of the last attempt.
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.fallback_reason is None


@dataclass(slots=True)
class _Call(Generic[M]):
    result: LlmResult[M] | None
    trace: StageTrace
    error: LlmError | None


async def _call(
    client: LlmClient,
    stage: Stage,
    rendered: RenderedPrompt,
    output_type: type[M],
    hints: dict[str, Any],
    config: StageConfig,
) -> _Call[M]:
    request: LlmRequest[M] = LlmRequest(
        stage=stage,
        model=config.models.for_stage(stage),
        system=rendered.system,
        prompt=rendered.prompt,
        output_type=output_type,
        prompt_version=rendered.version,
        temperature=TEMPERATURES[stage],
        max_output_tokens=MAX_OUTPUT_TOKENS[stage],
        timeout_s=config.timeout_s,
        hints=hints,
    )
    started = time.perf_counter()
    try:
        result = await client.generate(request)
    except LlmError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        # The error text can quote model output (which can quote the customer): debug only.
        log.warning(
            "llm.stage_failed",
            extra={
                "stage": stage.value,
                "provider": client.provider,
                "model": request.model,
                "error_type": type(exc).__name__,
            },
        )
        log.debug("llm.stage_failed.detail", extra={"stage": stage.value, "error": str(exc)})
        trace = StageTrace(
            stage=stage,
            provider=exc.provider or client.provider,
            model=exc.model or request.model,
            prompt_version=rendered.version,
            latency_ms=elapsed,
            error=str(exc)[:500],
            error_type=type(exc).__name__,
        )
        return _Call(result=None, trace=trace, error=exc)
    trace = StageTrace(
        stage=stage,
        provider=result.provider,
        model=result.model,
        prompt_version=rendered.version,
        latency_ms=result.latency_ms,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        output=result.output.model_dump(mode="json"),
        attempts=result.attempts,
    )
    return _Call(result=result, trace=trace, error=None)


def _context_hint(ctx: TurnContext) -> dict[str, Any]:
    return ctx.model_dump(mode="json")


# --- Eyes -------------------------------------------------------------------------------------


def _looks_like_question(text: str) -> bool:
    if "?" in text or "？" in text:
        return True
    tokens = [w.lower() for w in words(text)]
    return bool(tokens) and (tokens[0] in _QUESTION_WORDS or "kya" in tokens or "क्या" in text)


def conservative_observation(ctx: TurnContext) -> EyesOutput:
    """What the pipeline assumes when Eyes failed: nothing new, and look things up if asked."""
    text = ctx.customer_text
    question = _looks_like_question(text)
    return EyesOutput(
        intent=CustomerIntent.QUESTION if question else CustomerIntent.OTHER,
        intent_level=ctx.state.intent_level,
        sentiment=ctx.state.sentiment,
        risk_flags=RiskFlags(hallucination_risk=RiskLevel.HIGH if question else RiskLevel.MEDIUM),
        language=guess_language(text, ctx.org.language) if text else ctx.org.language,
        knowledge_needed=question,
        knowledge_topic=None,
        search_query=text[:300] if question else None,
        situation_summary="Observation unavailable; state carried over from the last turn.",
        confidence=0.0,
    )


async def observe(
    client: LlmClient, ctx: TurnContext, *, config: StageConfig | None = None
) -> StageResult[EyesOutput]:
    config = config or StageConfig.default()
    rendered = config.registry.render(Stage.EYES, render.eyes_values(ctx))
    call = await _call(
        client, Stage.EYES, rendered, EyesOutput, {"context": _context_hint(ctx)}, config
    )
    if call.result is not None:
        return StageResult(output=call.result.output, traces=[call.trace], llm=call.result)
    fallback = conservative_observation(ctx)
    call.trace.fallback = True
    call.trace.output = fallback.model_dump(mode="json")
    return StageResult(
        output=fallback, traces=[call.trace], fallback_reason="observation unavailable"
    )


# --- Brain ------------------------------------------------------------------------------------

DECISION_UNAVAILABLE = "decision unavailable"


def handoff_decision(ctx: TurnContext, reason: str) -> BrainOutput:
    return BrainOutput(
        action=Action.HANDOFF,
        new_stage=ctx.state.stage,
        plan="Tell the customer a person from the team will follow up here soon.",
        needs_attention=True,
        attention_reason=reason,
        confidence=0.0,
    )


async def decide(
    client: LlmClient,
    ctx: TurnContext,
    eyes: EyesOutput,
    retrieval: Retrieval,
    *,
    config: StageConfig | None = None,
) -> StageResult[BrainOutput]:
    config = config or StageConfig.default()
    rendered = config.registry.render(Stage.BRAIN, render.brain_values(ctx, eyes, retrieval))
    hints = {
        "context": _context_hint(ctx),
        "eyes": eyes.model_dump(mode="json"),
        "retrieval": retrieval.model_dump(mode="json"),
    }
    call = await _call(client, Stage.BRAIN, rendered, BrainOutput, hints, config)
    if call.result is not None:
        return StageResult(output=call.result.output, traces=[call.trace], llm=call.result)
    fallback = handoff_decision(ctx, DECISION_UNAVAILABLE)
    call.trace.fallback = True
    call.trace.output = fallback.model_dump(mode="json")
    return StageResult(output=fallback, traces=[call.trace], fallback_reason=DECISION_UNAVAILABLE)


# --- Mouth ------------------------------------------------------------------------------------

_COMPOSED_ACTIONS = frozenset({Action.RESPOND, Action.INITIATE_CTA, Action.HANDOFF})


async def respond(
    client: LlmClient,
    ctx: TurnContext,
    eyes: EyesOutput,
    brain: BrainOutput | FinalDecision,
    retrieval: Retrieval,
    *,
    config: StageConfig | None = None,
) -> StageResult[MouthOutput | None]:
    """The customer-facing message, checked by :mod:`mouth_rules`; ``None`` output means none.

    Two attempts at most: the second sees the first one's violations. When both fail, the
    output is ``None`` and ``fallback_reason`` says why; the caller hands the conversation off
    (:func:`funnel.core.htl.policy.handoff_after_failure`) and the customer gets nothing from
    the bot rather than an apology for a technical problem.
    """
    config = config or StageConfig.default()
    plan = brain.as_brain_output() if isinstance(brain, FinalDecision) else brain
    if plan.action not in _COMPOSED_ACTIONS:
        raise ValueError(f"Mouth has nothing to write for action {plan.action}")
    traces: list[StageTrace] = []
    feedback: list[str] = []
    last: list[Violation] = []
    for attempt in (1, 2):
        values = render.mouth_values(ctx, eyes, plan, retrieval, feedback)
        rendered = config.registry.render(Stage.MOUTH, values)
        hints = {
            "context": _context_hint(ctx),
            "eyes": eyes.model_dump(mode="json"),
            "brain": plan.model_dump(mode="json"),
            "retrieval": retrieval.model_dump(mode="json"),
            "violations": list(feedback),
            "attempt": attempt,
        }
        call = await _call(client, Stage.MOUTH, rendered, MouthOutput, hints, config)
        traces.append(call.trace)
        if call.result is None:
            assert call.error is not None
            if not isinstance(call.error, LlmInvalidOutput):
                # Timeouts and outages were already retried by the adapter: do not stack more.
                return StageResult(
                    output=None,
                    traces=traces,
                    fallback_reason=f"reply unavailable ({type(call.error).__name__})",
                )
            last = [Violation("schema", "the reply was not valid JSON for the reply schema")]
        else:
            last = check_reply(call.result.output, ctx, retrieval=retrieval, cta_id=plan.cta_id)
            if not last:
                return StageResult(output=call.result.output, traces=traces, llm=call.result)
        call.trace.violations = [str(v) for v in last]
        feedback = [str(v) for v in last]
    return StageResult(
        output=None,
        traces=traces,
        fallback_reason="reply failed validation twice: "
        + "; ".join(sorted({v.rule for v in last})),
        violations=last,
    )


# --- Memory -----------------------------------------------------------------------------------


async def summarise(
    client: LlmClient,
    ctx: TurnContext,
    exchange: Exchange,
    *,
    config: StageConfig | None = None,
) -> StageResult[MemoryOutput | None]:
    """The updated summary and lead facts; ``None`` output means keep the old ones unchanged."""
    config = config or StageConfig.default()
    rendered = config.registry.render(Stage.MEMORY, render.memory_values(ctx, exchange))
    hints = {"context": _context_hint(ctx), "exchange": exchange.model_dump(mode="json")}
    call = await _call(client, Stage.MEMORY, rendered, MemoryOutput, hints, config)
    if call.result is None:
        call.trace.fallback = True
        return StageResult(output=None, traces=[call.trace], fallback_reason="summary unavailable")
    output = call.result.output
    if _PLACEHOLDER_SUMMARY.match(output.rolling_summary):
        call.trace.fallback = True
        call.trace.error = "placeholder summary rejected"
        return StageResult(
            output=None, traces=[call.trace], fallback_reason="placeholder summary rejected"
        )
    merged = output.model_copy(
        update={"lead_facts": ctx.state.lead_facts.merged(output.lead_facts)}
    )
    call.trace.output = merged.model_dump(mode="json")
    return StageResult(output=merged, traces=[call.trace], llm=call.result)


def trace_json(traces: list[StageTrace]) -> str:
    return json.dumps([t.as_dict() for t in traces], ensure_ascii=False)
