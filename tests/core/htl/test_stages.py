"""The stage functions against a scripted in-test client: requests, traces and failure paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from funnel.core.htl.enums import (
    Action,
    ConversationMode,
    ConversationStage,
    CustomerIntent,
    MessageAuthor,
    MessageKind,
)
from funnel.core.htl.schemas import (
    BrainOutput,
    Exchange,
    EyesOutput,
    LeadFacts,
    MemoryOutput,
    MouthOutput,
    Retrieval,
    TurnContext,
)
from funnel.core.htl.stages import (
    DECISION_UNAVAILABLE,
    TEMPERATURES,
    StageConfig,
    StageModels,
    decide,
    observe,
    respond,
    summarise,
)
from funnel.core.htl.turn import run_turn
from funnel.core.llm.base import (
    LlmClient,
    LlmInvalidOutput,
    LlmRequest,
    LlmResult,
    LlmTimeout,
    LlmUnavailable,
    LlmUsage,
    Stage,
)
from funnel.core.settings import LlmSettings
from tests.core.htl.factories import KNOWLEDGE, KeywordRetriever, turn

Script = BaseModel | Exception | Callable[[LlmRequest[Any]], BaseModel]


class ScriptedClient:
    """Answers each call with the next scripted output or raises the next scripted error."""

    def __init__(self, *script: Script) -> None:
        self.script = list(script)
        self.requests: list[LlmRequest[Any]] = []

    @property
    def provider(self) -> str:
        return "scripted"

    @property
    def is_offline(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None

    async def generate(self, request: LlmRequest[Any]) -> LlmResult[Any]:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected {request.stage} call")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        output = step if isinstance(step, BaseModel) else step(request)
        assert isinstance(output, request.output_type)
        return LlmResult(
            output=output,
            usage=LlmUsage(input_tokens=120, output_tokens=30),
            latency_ms=12.5,
            model=request.model,
            provider="scripted",
            raw_text=output.model_dump_json(),
        )


def test_the_stub_implements_the_protocol() -> None:
    assert isinstance(ScriptedClient(), LlmClient)


CONFIG = StageConfig(
    models=StageModels.from_settings(
        LlmSettings(), {"eyes": "model-eyes", "brain": "model-brain", "mouth": "model-mouth"}
    ),
    registry=StageConfig.default().registry,
)

EYES = EyesOutput(
    intent=CustomerIntent.PRICING,
    intent_level="medium",
    sentiment="curious",
    knowledge_needed=True,
    knowledge_topic="pricing",
    search_query="home plan price",
    situation_summary="Asks for the price.",
    confidence=0.9,
)
GROUNDED = Retrieval.from_chunks("price", [KNOWLEDGE[0].model_copy(update={"score": 0.9})])
RESPOND = BrainOutput(
    action=Action.RESPOND, new_stage=ConversationStage.PRICING, plan="Quote the price."
)
GOOD_REPLY = MouthOutput(text="The Home plan costs ₹89,999 for a 4 kW system.", language="en")
BAD_REPLY = MouthOutput(text="The Home plan costs ₹59,999. Want it? Shall I book?", language="en")


def ctx() -> TurnContext:
    return turn("How much is the Home plan?")


# --- Eyes -------------------------------------------------------------------------------------


async def test_observe_builds_the_request_and_the_trace() -> None:
    client = ScriptedClient(EYES)
    result = await observe(client, ctx(), config=CONFIG)
    assert result.ok
    assert result.output == EYES
    (request,) = client.requests
    assert request.stage is Stage.EYES
    assert request.model == "model-eyes"
    assert request.output_type is EyesOutput
    assert request.prompt_version == "eyes.v1"
    assert request.temperature == TEMPERATURES[Stage.EYES]
    assert 0.2 <= request.temperature <= 0.3
    assert request.hints["context"]["new_messages"][0]["text"] == "How much is the Home plan?"
    assert "How much is the Home plan?" in request.prompt
    (trace,) = result.traces
    assert (trace.stage, trace.model, trace.prompt_version) == (Stage.EYES, "model-eyes", "eyes.v1")
    assert (trace.input_tokens, trace.output_tokens, trace.latency_ms) == (120, 30, 12.5)
    assert trace.output == EYES.model_dump(mode="json")
    assert trace.error is None


async def test_eyes_failure_is_a_conservative_observation_recorded_as_an_error() -> None:
    client = ScriptedClient(LlmTimeout("deadline", provider="scripted", model="model-eyes"))
    context = turn("kitna hai Home plan?", intent_level="high", sentiment="curious")
    result = await observe(client, context, config=CONFIG)
    assert not result.ok
    eyes = result.output
    assert eyes.confidence == 0.0
    assert eyes.knowledge_needed
    assert eyes.search_query == "kitna hai Home plan?"
    assert eyes.intent_level.value == "high"  # carried over, not invented
    assert eyes.language == "hi-Latn"
    (trace,) = result.traces
    assert trace.error_type == "LlmTimeout"
    assert trace.fallback
    assert trace.output == eyes.model_dump(mode="json")


async def test_eyes_failure_on_a_statement_needs_no_knowledge() -> None:
    result = await observe(ScriptedClient(LlmUnavailable("503")), turn("ok thanks"), config=CONFIG)
    assert not result.output.knowledge_needed


# --- Brain ------------------------------------------------------------------------------------


async def test_decide_sends_observation_and_knowledge() -> None:
    client = ScriptedClient(RESPOND)
    result = await decide(client, ctx(), EYES, GROUNDED, config=CONFIG)
    assert result.output == RESPOND
    (request,) = client.requests
    assert request.model == "model-brain"
    assert request.hints["eyes"]["intent"] == "pricing"
    assert request.hints["retrieval"]["grounded"] is True
    assert "₹89,999" in request.prompt
    assert "cta-survey" in request.prompt
    assert "cta-old" not in request.prompt  # inactive CTAs are never offered


async def test_brain_failure_hands_off_visibly() -> None:
    result = await decide(
        ScriptedClient(LlmInvalidOutput("bad", raw_text="{")), ctx(), EYES, GROUNDED, config=CONFIG
    )
    assert not result.ok
    assert result.output.action is Action.HANDOFF
    assert result.output.needs_attention
    assert result.output.attention_reason == DECISION_UNAVAILABLE
    assert result.output.new_stage is ConversationStage.GREETING
    assert result.traces[0].fallback


# --- Mouth ------------------------------------------------------------------------------------


async def test_a_valid_reply_is_used_at_once() -> None:
    client = ScriptedClient(GOOD_REPLY)
    result = await respond(client, ctx(), EYES, RESPOND, GROUNDED, config=CONFIG)
    assert result.output == GOOD_REPLY
    (request,) = client.requests
    assert request.temperature == pytest.approx(0.6)
    assert request.hints["violations"] == []
    # Mouth sees the knowledge itself (the original passed it only to Brain).
    assert "₹89,999" in request.prompt


async def test_a_reply_breaking_the_rules_is_regenerated_once_with_the_violations() -> None:
    client = ScriptedClient(BAD_REPLY, GOOD_REPLY)
    result = await respond(client, ctx(), EYES, RESPOND, GROUNDED, config=CONFIG)
    assert result.output == GOOD_REPLY
    first, second = client.requests
    assert first.hints["violations"] == []
    fed_back = second.hints["violations"]
    assert any(v.startswith("invented_amount") for v in fed_back)
    assert any(v.startswith("questions") for v in fed_back)
    assert "invented_amount" in second.prompt
    assert result.traces[0].violations == fed_back
    assert result.traces[1].violations == []


async def test_two_bad_replies_mean_no_reply_and_a_reason() -> None:
    client = ScriptedClient(BAD_REPLY, BAD_REPLY)
    result = await respond(client, ctx(), EYES, RESPOND, GROUNDED, config=CONFIG)
    assert result.output is None
    assert result.fallback_reason is not None
    assert "invented_amount" in result.fallback_reason
    assert len(client.requests) == 2


async def test_invalid_json_counts_as_a_failed_attempt() -> None:
    client = ScriptedClient(LlmInvalidOutput("not json", raw_text="Sure! Here"), GOOD_REPLY)
    result = await respond(client, ctx(), EYES, RESPOND, GROUNDED, config=CONFIG)
    assert result.output == GOOD_REPLY
    assert client.requests[1].hints["violations"][0].startswith("schema")


async def test_an_outage_is_not_retried_again_by_the_stage() -> None:
    client = ScriptedClient(LlmTimeout("slow"))
    result = await respond(client, ctx(), EYES, RESPOND, GROUNDED, config=CONFIG)
    assert result.output is None
    assert result.fallback_reason == "reply unavailable (LlmTimeout)"
    assert len(client.requests) == 1


async def test_mouth_refuses_actions_with_nothing_to_say() -> None:
    wait = BrainOutput(action=Action.WAIT, new_stage=ConversationStage.PRICING)
    with pytest.raises(ValueError, match="nothing to write"):
        await respond(ScriptedClient(), ctx(), EYES, wait, GROUNDED, config=CONFIG)


# --- Memory -----------------------------------------------------------------------------------


def exchange(context: TurnContext) -> Exchange:
    return Exchange(messages=context.new_messages, action=Action.RESPOND)


async def test_summary_and_facts_are_merged_with_what_was_known() -> None:
    context = turn("I'm Asha", rolling_summary="Old.", lead_facts=LeadFacts(email="a@b.example"))
    client = ScriptedClient(
        MemoryOutput(rolling_summary="Asha asked about prices.", lead_facts=LeadFacts(name="Asha"))
    )
    result = await summarise(client, context, exchange(context), config=CONFIG)
    assert result.output is not None
    assert result.output.rolling_summary == "Asha asked about prices."
    assert result.output.lead_facts == LeadFacts(name="Asha", email="a@b.example")
    assert client.requests[0].temperature == pytest.approx(0.2)
    assert "Old." in client.requests[0].prompt


async def test_memory_failure_keeps_the_old_summary() -> None:
    context = turn("hi", rolling_summary="Old summary.")
    result = await summarise(ScriptedClient(LlmUnavailable("down")), context, exchange(context))
    assert result.output is None
    assert result.fallback_reason == "summary unavailable"


@pytest.mark.parametrize("placeholder", ["No summary available", "N/A", "TODO", "--"])
async def test_a_placeholder_summary_is_never_saved(placeholder: str) -> None:
    context = turn("hi", rolling_summary="Real history.")
    client = ScriptedClient(MemoryOutput(rolling_summary=placeholder))
    result = await summarise(client, context, exchange(context), config=CONFIG)
    assert result.output is None
    assert result.traces[0].error == "placeholder summary rejected"


# --- models -----------------------------------------------------------------------------------


def test_per_stage_models_come_from_settings_then_overrides() -> None:
    models = StageModels.from_settings(
        LlmSettings(memory_model="lite"), {"brain": "pro", "mouth": ""}
    )
    assert models.for_stage(Stage.BRAIN) == "pro"
    assert models.for_stage(Stage.MEMORY) == "lite"
    assert models.for_stage(Stage.MOUTH) == LlmSettings().mouth_model
    with pytest.raises(ValueError, match="no stage"):
        StageModels.from_settings(LlmSettings(), {"ears": "x"})


# --- a whole turn -----------------------------------------------------------------------------


async def test_a_turn_runs_eyes_retrieval_brain_policy_mouth() -> None:
    client = ScriptedClient(EYES, RESPOND, GOOD_REPLY)
    retriever = KeywordRetriever(KNOWLEDGE, threshold=0.2)
    outcome = await run_turn(client, ctx(), retriever=retriever, config=CONFIG)
    assert [r.stage for r in client.requests] == [Stage.EYES, Stage.BRAIN, Stage.MOUTH]
    assert retriever.calls == 1
    assert outcome.retrieval.grounded
    assert outcome.reply == GOOD_REPLY
    assert outcome.decision.action is Action.RESPOND
    assert [t.stage for t in outcome.traces] == [Stage.EYES, Stage.BRAIN, Stage.MOUTH]
    memory_input = outcome.exchange()
    assert [m.author for m in memory_input.messages] == [MessageAuthor.LEAD, MessageAuthor.BOT]


async def test_human_mode_spends_no_tokens() -> None:
    client = ScriptedClient()
    outcome = await run_turn(client, turn("hello?", mode=ConversationMode.HUMAN), config=CONFIG)
    assert client.requests == []
    assert outcome.skipped == "human mode"
    assert outcome.reply is None
    assert outcome.decision.action is Action.IGNORE


async def test_a_failed_mouth_hands_off_without_any_text_for_the_customer() -> None:
    client = ScriptedClient(EYES, RESPOND, BAD_REPLY, BAD_REPLY)
    outcome = await run_turn(client, ctx(), config=CONFIG)
    assert outcome.reply is None
    assert outcome.decision.action is Action.HANDOFF
    assert outcome.decision.needs_attention
    assert not outcome.decision.compose_reply
    assert outcome.decision.overrides[-1].rule == "mouth.failed"
    assert outcome.exchange().messages == ctx().new_messages


async def test_a_retrieval_error_leaves_the_turn_ungrounded() -> None:
    async def broken(context: TurnContext, query: str) -> Retrieval:
        raise ConnectionError("database down")

    seen: list[Retrieval] = []

    def brain_sees(request: LlmRequest[Any]) -> BaseModel:
        seen.append(Retrieval.model_validate(request.hints["retrieval"]))
        return RESPOND

    client = ScriptedClient(EYES, brain_sees, MouthOutput(text="I'll check with the team."))
    outcome = await run_turn(client, ctx(), retriever=broken, config=CONFIG)
    assert outcome.retrieval_error == "ConnectionError"
    assert seen[0].attempted
    assert not seen[0].grounded
    assert outcome.reply is not None


async def test_an_injection_flag_overrides_brain_before_mouth_writes() -> None:
    eyes = EYES.model_copy(
        update={"risk_flags": EYES.risk_flags.model_copy(update={"prompt_injection": True})}
    )
    notice = MouthOutput(text="A person from our team will reply here soon.")
    client = ScriptedClient(eyes, RESPOND, notice)
    outcome = await run_turn(client, ctx(), config=CONFIG)
    assert outcome.decision.action is Action.HANDOFF
    assert client.requests[2].hints["brain"]["action"] == "handoff"
    assert outcome.reply is not None
    assert outcome.reply.kind is MessageKind.TEXT
