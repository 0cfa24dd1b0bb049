"""The stages through the real Gemini adapter and SDK against the scripted fake Gemini server.

The stub-client tests pin the stage logic; these pin that the stage contracts survive the wire:
the schemas go out as a response schema the fake accepts, and what comes back (valid, invalid,
schema-violating, rate-limited, slow) lands in the right stage behaviour.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import BaseModel, SecretStr

from funnel.core.htl.enums import Action, ConversationStage, CustomerIntent
from funnel.core.htl.schemas import BrainOutput, EyesOutput, MemoryOutput, MouthOutput, Retrieval
from funnel.core.htl.stages import (
    DECISION_UNAVAILABLE,
    StageConfig,
    StageModels,
    decide,
    observe,
    respond,
)
from funnel.core.llm.fake_gemini import FAKE_API_KEY, FakeGemini, Reply
from funnel.core.llm.gemini import GeminiClient, RetryPolicy, response_json_schema
from funnel.core.settings import LlmSettings
from tests.core.htl.factories import KNOWLEDGE, turn

EYES_MODEL = "gemini-test-eyes"
BRAIN_MODEL = "gemini-test-brain"
MOUTH_MODEL = "gemini-test-mouth"

VALID_EYES = {
    "intent": "pricing",
    "intent_level": "medium",
    "sentiment": "curious",
    "risk_flags": {
        "spam": "low",
        "policy": "low",
        "hallucination_risk": "medium",
        "prompt_injection": False,
    },
    "language": "en",
    "knowledge_needed": True,
    "knowledge_topic": "pricing",
    "search_query": "home plan price",
    "situation_summary": "Asks the price of the Home plan.",
    "confidence": 0.9,
}
GROUNDED = Retrieval.from_chunks("price", [KNOWLEDGE[0].model_copy(update={"score": 0.9})])


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeGemini]:
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeGemini) -> Iterator[FakeGemini]:
    fake_server.reset()
    yield fake_server
    fake_server.reset()


@pytest.fixture(autouse=True)
def _no_sdk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # google-genai reads these itself; a developer's shell must not send the tests elsewhere.
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def settings(fake: FakeGemini, timeout_s: float = 2.0) -> LlmSettings:
    return LlmSettings(
        api_key=SecretStr(FAKE_API_KEY),
        base_url=fake.base_url,
        timeout_s=timeout_s,
        max_retries=2,
        eyes_model=EYES_MODEL,
        brain_model=BRAIN_MODEL,
        mouth_model=MOUTH_MODEL,
    )


@pytest.fixture
async def gemini(fake: FakeGemini) -> AsyncIterator[GeminiClient]:
    client = GeminiClient(
        settings(fake), retry=RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)
    )
    yield client
    await client.aclose()


def config(fake: FakeGemini, timeout_s: float = 2.0) -> StageConfig:
    return StageConfig(
        models=StageModels.from_settings(settings(fake)),
        registry=StageConfig.default().registry,
        timeout_s=timeout_s,
    )


async def test_observe_with_valid_json(fake: FakeGemini, gemini: GeminiClient) -> None:
    fake.queue(Reply.json(VALID_EYES), model=EYES_MODEL)
    result = await observe(gemini, turn("How much is the Home plan?"), config=config(fake))
    assert result.ok
    assert result.output.intent is CustomerIntent.PRICING
    (trace,) = result.traces
    assert trace.provider == "gemini"
    assert trace.model == EYES_MODEL
    assert trace.prompt_version == "eyes.v1"
    assert trace.input_tokens > 0
    assert trace.output_tokens > 0
    (request,) = fake.calls(model=EYES_MODEL)
    assert request.system_instruction is not None
    assert "observer" in request.system_instruction
    assert "How much is the Home plan?" in request.prompt_text
    assert "How much is the Home plan?" not in request.system_instruction
    assert request.generation_config["temperature"] == pytest.approx(0.2)


async def test_observe_with_invalid_json_falls_back(fake: FakeGemini, gemini: GeminiClient) -> None:
    fake.queue(Reply.invalid_json(), model=EYES_MODEL)
    result = await observe(gemini, turn("what is the price?"), config=config(fake))
    assert not result.ok
    assert result.output.confidence == 0.0
    assert result.output.knowledge_needed
    assert result.traces[0].error_type == "LlmInvalidOutput"


async def test_decide_with_schema_violating_json_hands_off(
    fake: FakeGemini, gemini: GeminiClient
) -> None:
    fake.queue(
        Reply.json({"action": "give_discount", "new_stage": "pricing", "plan": "90% off"}),
        model=BRAIN_MODEL,
    )
    eyes = EyesOutput.model_validate(VALID_EYES)
    result = await decide(gemini, turn("price?"), eyes, GROUNDED, config=config(fake))
    assert result.output.action is Action.HANDOFF
    assert result.output.attention_reason == DECISION_UNAVAILABLE
    assert result.traces[0].error_type == "LlmInvalidOutput"


async def test_decide_salvages_near_misses(fake: FakeGemini, gemini: GeminiClient) -> None:
    fake.queue(
        Reply.json(
            {
                "action": "Send-Now",
                "new_stage": "Price",
                "plan": "Quote the plan. " * 200,
                "confidence": "0.8",
            }
        ),
        model=BRAIN_MODEL,
    )
    eyes = EyesOutput.model_validate(VALID_EYES)
    result = await decide(gemini, turn("price?"), eyes, GROUNDED, config=config(fake))
    assert result.ok
    assert result.output.action is Action.RESPOND
    assert result.output.new_stage is ConversationStage.PRICING


async def test_respond_after_a_429(fake: FakeGemini, gemini: GeminiClient) -> None:
    fake.queue(
        Reply.error(429),
        Reply.json({"kind": "text", "text": "The Home plan costs ₹89,999.", "language": "en"}),
        model=MOUTH_MODEL,
    )
    eyes = EyesOutput.model_validate(VALID_EYES)
    brain = BrainOutput(action=Action.RESPOND, new_stage=ConversationStage.PRICING, plan="quote")
    result = await respond(gemini, turn("price?"), eyes, brain, GROUNDED, config=config(fake))
    assert isinstance(result.output, MouthOutput)
    assert result.output.text == "The Home plan costs ₹89,999."
    assert result.traces[0].attempts == 2
    assert len(fake.calls(model=MOUTH_MODEL)) == 2


async def test_respond_regenerates_with_the_violations_through_the_wire(
    fake: FakeGemini, gemini: GeminiClient
) -> None:
    fake.queue(
        Reply.json({"kind": "text", "text": "Only ₹9,999 today!", "language": "en"}),
        Reply.json({"kind": "text", "text": "The Home plan costs ₹89,999.", "language": "en"}),
        model=MOUTH_MODEL,
    )
    eyes = EyesOutput.model_validate(VALID_EYES)
    brain = BrainOutput(action=Action.RESPOND, new_stage=ConversationStage.PRICING, plan="quote")
    result = await respond(gemini, turn("price?"), eyes, brain, GROUNDED, config=config(fake))
    assert result.output is not None
    first, second = fake.calls(model=MOUTH_MODEL)
    assert "invented_amount" not in first.prompt_text
    assert "invented_amount: 9999" in second.prompt_text


async def test_respond_timeout_gives_no_reply(fake: FakeGemini) -> None:
    client = GeminiClient(
        settings(fake, timeout_s=0.3), retry=RetryPolicy(max_retries=0, base_delay_s=0.01)
    )
    try:
        fake.queue(Reply.slow(3.0), model=MOUTH_MODEL)
        eyes = EyesOutput.model_validate(VALID_EYES)
        brain = BrainOutput(action=Action.RESPOND, new_stage=ConversationStage.PRICING)
        result = await respond(
            client, turn("price?"), eyes, brain, GROUNDED, config=config(fake, timeout_s=0.3)
        )
    finally:
        await client.aclose()
    assert result.output is None
    assert result.fallback_reason == "reply unavailable (LlmTimeout)"


@pytest.mark.parametrize("output_type", [EyesOutput, BrainOutput, MouthOutput, MemoryOutput])
def test_every_stage_schema_converts_to_a_response_schema(output_type: type[BaseModel]) -> None:
    # The response schema is derived from the stage model: every top-level field reaches the wire.
    schema = json.dumps(response_json_schema(output_type))
    for field in output_type.model_fields:
        assert f'"{field}"' in schema
