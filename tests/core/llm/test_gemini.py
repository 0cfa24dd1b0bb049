"""The Gemini adapter through the real google-genai SDK against the fake server."""

from __future__ import annotations

import enum
import logging
import socket
import time
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, SecretStr

from funnel.core.llm.base import (
    LlmClient,
    LlmInvalidOutput,
    LlmRateLimited,
    LlmRejected,
    LlmRequest,
    LlmTimeout,
    LlmUnavailable,
    Stage,
)
from funnel.core.llm.fake_gemini import FakeGemini, Reply
from funnel.core.llm.gemini import (
    GeminiClient,
    RetryPolicy,
    models_for,
    parse_output,
    response_json_schema,
)
from funnel.core.settings import LlmSettings
from tests.core.llm.conftest import RecordingSleep, fast_retry, llm_settings

MODEL = "gemini-2.5-flash"


# An output model with the shapes stage models use: an enum, a Literal, a nested list, an
# optional field, a dict and a discriminated union. The SDK's own ``response_schema`` path
# refuses the last two on the Gemini API, which is why the adapter derives a JSON Schema.
class Intent(enum.StrEnum):
    PRICING = "pricing"
    GREETING = "greeting"
    HANDOFF = "handoff"


class RiskFlag(BaseModel):
    name: Literal["spam", "policy", "prompt_injection"]
    score: float = Field(ge=0, le=1)


class Reply_(BaseModel):
    kind: Literal["reply"] = "reply"
    text: str = Field(max_length=400)


class Wait(BaseModel):
    kind: Literal["wait"] = "wait"
    minutes: int = Field(ge=1)


class Analysis(BaseModel):
    intent: Intent
    language: str = Field(description="BCP 47 tag of the customer's language")
    flags: list[RiskFlag] = Field(default_factory=list)
    topic: str | None = None
    facts: dict[str, str] = Field(default_factory=dict)
    action: Annotated[Reply_ | Wait, Field(discriminator="kind")]
    confidence: float = Field(ge=0, le=1)


VALID = {
    "intent": "pricing",
    "language": "hi-Latn",
    "flags": [{"name": "spam", "score": 0.1}],
    "topic": "plans",
    "facts": {"city": "Pune"},
    "action": {"kind": "reply", "text": "The Pro plan is ₹1,299 a month."},
    "confidence": 0.92,
}


def request(**overrides: object) -> LlmRequest[Analysis]:
    values: dict[str, object] = {
        "stage": Stage.EYES,
        "model": MODEL,
        "system": "You analyse a customer's message for Acme Tea. Policy: never quote discounts.",
        "prompt": "<customer_message>Pro plan ka daam kya hai?</customer_message>",
        "output_type": Analysis,
        "temperature": 0.2,
        "max_output_tokens": 512,
    }
    values.update(overrides)
    return LlmRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def client(fake_gemini: FakeGemini, sleep: RecordingSleep) -> GeminiClient:
    return GeminiClient(llm_settings(fake_gemini), retry=fast_retry(2), sleep=sleep)


async def test_valid_output_is_validated_with_usage_latency_and_one_attempt(
    fake_gemini: FakeGemini, client: GeminiClient
) -> None:
    fake_gemini.queue(Reply.json(VALID, prompt_tokens=321, output_tokens=45, delay_s=0.05))

    result = await client.generate(request())

    assert isinstance(result.output, Analysis)
    assert result.output.intent is Intent.PRICING
    assert isinstance(result.output.action, Reply_)
    assert result.output.facts == {"city": "Pune"}
    assert (result.usage.input_tokens, result.usage.output_tokens) == (321, 45)
    assert result.usage.total_tokens == 366
    assert result.latency_ms >= 50
    assert result.attempts == 1
    assert (result.provider, result.model) == ("gemini", MODEL)
    assert result.output == Analysis.model_validate_json(result.raw_text)
    assert len(fake_gemini.calls(model=MODEL)) == 1


async def test_request_carries_system_instruction_config_and_schema(
    fake_gemini: FakeGemini, client: GeminiClient
) -> None:
    fake_gemini.queue(Reply.json(VALID))

    await client.generate(request())

    (sent,) = fake_gemini.calls()
    assert sent.version == "v1"
    assert sent.model == MODEL
    assert sent.system_instruction == request().system
    assert "Pro plan ka daam kya hai?" in sent.prompt_text
    # The system text goes only in systemInstruction, never into the user turn.
    assert "Policy" not in sent.prompt_text
    config = sent.generation_config
    assert config["temperature"] == pytest.approx(0.2)
    assert config["maxOutputTokens"] == 512
    assert config["responseMimeType"] == "application/json"
    assert "responseSchema" not in config
    schema = config["responseJsonSchema"]
    assert schema == response_json_schema(Analysis)
    assert set(schema["properties"]) == set(Analysis.model_fields)
    assert set(schema["required"]) == {"intent", "language", "action", "confidence"}
    assert schema["properties"]["intent"]["enum"] == ["pricing", "greeting", "handoff"]
    # $refs are inlined: the nested model's fields are right there.
    flag = schema["properties"]["flags"]["items"]
    assert flag["properties"]["name"]["enum"] == ["spam", "policy", "prompt_injection"]
    variants = schema["properties"]["action"]["anyOf"]
    assert [v["properties"]["kind"]["enum"] for v in variants] == [["reply"], ["wait"]]
    assert "$ref" not in str(schema)
    assert "$defs" not in schema


async def test_invalid_json_is_invalid_output_and_not_retried(
    fake_gemini: FakeGemini, client: GeminiClient, sleep: RecordingSleep
) -> None:
    broken = Reply.invalid_json()
    # A valid reply queued behind it would be used if the adapter retried.
    fake_gemini.queue(broken, Reply.json(VALID))

    with pytest.raises(LlmInvalidOutput) as caught:
        await client.generate(request())

    assert caught.value.raw_text == broken.text
    assert "Analysis" in str(caught.value)
    assert "MAX_TOKENS" in str(caught.value)
    assert not caught.value.retryable
    assert len(fake_gemini.calls()) == 1
    assert fake_gemini.pending == 1
    assert sleep.delays == []


async def test_schema_violating_json_is_invalid_output(
    fake_gemini: FakeGemini, client: GeminiClient
) -> None:
    wrong = {**VALID, "intent": "buy_now", "confidence": 1.7}
    fake_gemini.queue(Reply.json(wrong), Reply.json(VALID))

    with pytest.raises(LlmInvalidOutput, match="intent") as caught:
        await client.generate(request())

    assert '"buy_now"' in caught.value.raw_text
    assert len(fake_gemini.calls()) == 1


async def test_fenced_json_is_salvaged(fake_gemini: FakeGemini, client: GeminiClient) -> None:
    fake_gemini.queue(Reply.fenced(VALID))

    result = await client.generate(request())

    assert result.output.intent is Intent.PRICING
    assert result.raw_text.startswith("```json")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply.blocked("SAFETY"), "output: SAFETY"),
        (Reply.blocked("PROHIBITED_CONTENT", prompt=True), "prompt: PROHIBITED_CONTENT"),
    ],
)
async def test_blocked_content_is_rejected_without_retry(
    fake_gemini: FakeGemini, client: GeminiClient, reply: Reply, reason: str
) -> None:
    fake_gemini.queue(reply, Reply.json(VALID))

    with pytest.raises(LlmRejected, match=reason):
        await client.generate(request())

    assert len(fake_gemini.calls()) == 1


async def test_prose_around_json_is_not_guessed_at(
    fake_gemini: FakeGemini, client: GeminiClient
) -> None:
    fake_gemini.queue(Reply.raw('Sure! Here is the analysis: {"intent": "pricing"}'))

    with pytest.raises(LlmInvalidOutput):
        await client.generate(request())


async def test_rate_limit_then_success_is_retried_once(
    fake_gemini: FakeGemini, client: GeminiClient, sleep: RecordingSleep
) -> None:
    fake_gemini.queue(Reply.error(429, "Resource has been exhausted"), Reply.json(VALID))

    result = await client.generate(request())

    assert result.attempts == 2
    assert len(fake_gemini.calls()) == 2
    assert len(sleep.delays) == 1
    assert 0 < sleep.delays[0] <= 0.05


async def test_a_rate_limit_s_retry_delay_is_honoured_within_the_cap(
    fake_gemini: FakeGemini, client: GeminiClient, sleep: RecordingSleep
) -> None:
    # fast_retry: backoff at most 0.01 s on the first retry, cap 0.05 s.
    fake_gemini.queue(
        Reply.error(429, retry_delay_s=0.04),
        Reply.error(429, retry_delay_s=30.0),
        Reply.json(VALID),
    )

    result = await client.generate(request())

    assert result.attempts == 3
    assert sleep.delays == [pytest.approx(0.04), pytest.approx(0.05)]


async def test_rate_limit_every_time_raises_rate_limited(
    fake_gemini: FakeGemini, client: GeminiClient
) -> None:
    fake_gemini.queue(*[Reply.error(429)] * 3)

    with pytest.raises(LlmRateLimited) as caught:
        await client.generate(request())

    assert caught.value.retryable
    assert len(fake_gemini.calls()) == 3


async def test_server_errors_exhaust_the_retries(
    fake_gemini: FakeGemini, client: GeminiClient, sleep: RecordingSleep
) -> None:
    max_retries = 2
    fake_gemini.queue(*[Reply.error(500)] * (max_retries + 1), Reply.json(VALID))

    with pytest.raises(LlmUnavailable, match="500"):
        await client.generate(request())

    assert len(fake_gemini.calls()) == max_retries + 1
    assert fake_gemini.pending == 1
    assert len(sleep.delays) == max_retries


async def test_503_then_success(fake_gemini: FakeGemini, client: GeminiClient) -> None:
    fake_gemini.queue(Reply.error(503), Reply.json(VALID))

    result = await client.generate(request())

    assert result.attempts == 2


async def test_slow_answers_time_out_are_retried_then_fail(
    fake_gemini: FakeGemini, sleep: RecordingSleep
) -> None:
    client = GeminiClient(
        llm_settings(fake_gemini, timeout_s=0.3, max_retries=1), retry=fast_retry(1), sleep=sleep
    )
    fake_gemini.queue(Reply.slow(3.0, Reply.json(VALID)), Reply.slow(3.0, Reply.json(VALID)))

    started = time.monotonic()
    with pytest.raises(LlmTimeout) as caught:
        await client.generate(request())
    elapsed = time.monotonic() - started

    assert caught.value.retryable
    assert len(fake_gemini.calls()) == 2
    assert len(sleep.delays) == 1
    # Two attempts of 0.3 s each, not the 3 s the server would have taken.
    assert elapsed < 2.0
    await client.aclose()


async def test_slow_then_fast_succeeds_on_the_second_attempt(
    fake_gemini: FakeGemini, sleep: RecordingSleep
) -> None:
    client = GeminiClient(
        llm_settings(fake_gemini, timeout_s=0.3), retry=fast_retry(2), sleep=sleep
    )
    fake_gemini.queue(Reply.slow(2.0, Reply.json(VALID)), Reply.json(VALID))

    result = await client.generate(request())

    assert result.attempts == 2
    await client.aclose()


async def test_a_stage_may_ask_for_a_shorter_timeout_than_settings(
    fake_gemini: FakeGemini,
) -> None:
    client = GeminiClient(
        llm_settings(fake_gemini, timeout_s=10.0, max_retries=0), retry=fast_retry(0)
    )
    fake_gemini.queue(Reply.slow(3.0, Reply.json(VALID)))

    started = time.monotonic()
    with pytest.raises(LlmTimeout):
        await client.generate(request(timeout_s=0.2))

    assert time.monotonic() - started < 1.5
    await client.aclose()


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_client_errors_are_rejected_without_retry(
    fake_gemini: FakeGemini, client: GeminiClient, sleep: RecordingSleep, status: int
) -> None:
    fake_gemini.queue(
        Reply.error(status, "Request contains an invalid argument."), Reply.json(VALID)
    )

    with pytest.raises(LlmRejected, match=str(status)) as caught:
        await client.generate(request())

    assert not caught.value.retryable
    assert len(fake_gemini.calls()) == 1
    assert sleep.delays == []


async def test_unreachable_server_is_unavailable_after_retries(sleep: RecordingSleep) -> None:
    # A port that was free a moment ago: connection refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = LlmSettings(
        api_key=SecretStr("k-unreachable-123"), base_url=f"http://127.0.0.1:{port}", timeout_s=2
    )
    client = GeminiClient(settings, retry=fast_retry(2), sleep=sleep)

    with pytest.raises(LlmUnavailable) as caught:
        await client.generate(request())

    assert len(sleep.delays) == 2
    assert "k-unreachable-123" not in str(caught.value)
    await client.aclose()


async def test_api_key_never_appears_in_logs_or_errors(
    fake_gemini: FakeGemini, caplog: pytest.LogCaptureFixture, sleep: RecordingSleep
) -> None:
    secret = "AIzaSy-test-secret-0123456789abcdef"
    fake_gemini.api_key = secret
    try:
        client = GeminiClient(
            llm_settings(fake_gemini, api_key=SecretStr(secret)), retry=fast_retry(2), sleep=sleep
        )
        wrong = GeminiClient(
            llm_settings(fake_gemini, api_key=SecretStr(secret + "-wrong")),
            retry=fast_retry(2),
            sleep=sleep,
        )
        fake_gemini.queue(
            Reply.error(429),
            Reply.json(VALID),
            Reply.invalid_json(),
            Reply.error(500),
            Reply.error(500),
            Reply.error(500),
            # A proxy in front of the API might echo the key back; it must not travel on.
            Reply.error(403, f"API key {secret} is blocked for this project"),
        )
        errors: list[Exception] = []
        with caplog.at_level(logging.DEBUG):
            await client.generate(request())
            for attempt in (client, client, client, wrong):
                try:
                    await attempt.generate(request())
                except Exception as exc:
                    errors.append(exc)
        await client.aclose()
        await wrong.aclose()
    finally:
        fake_gemini.api_key = FakeGemini().api_key

    assert [type(e) for e in errors] == [
        LlmInvalidOutput,
        LlmUnavailable,
        LlmRejected,
        LlmRejected,
    ]
    assert "[redacted] is blocked" in str(errors[2])
    assert caplog.records, "the adapter logs its calls; an empty capture proves nothing"
    assert any(r.name.startswith("funnel.core.llm") for r in caplog.records)
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.__dict__)
    for error in errors:
        assert secret not in str(error)
        assert secret not in repr(error.args)
        assert error.__cause__ is None
    assert secret not in repr(client)


async def test_client_satisfies_the_protocol(client: GeminiClient) -> None:
    assert isinstance(client, LlmClient)
    assert client.provider == "gemini"
    assert client.is_offline is False


def test_a_key_is_required() -> None:
    with pytest.raises(ValueError, match="API key"):
        GeminiClient(LlmSettings())


# ---------------------------------------------------------------------------- pure helpers


def test_models_for_prefers_the_organisation_override() -> None:
    settings = LlmSettings(brain_model="gemini-2.5-flash", memory_model="gemini-2.5-flash-lite")
    chosen = models_for({"brain": "gemini-2.5-pro", "MOUTH": " gemini-3-flash "}, settings)
    assert chosen == {
        Stage.EYES: settings.eyes_model,
        Stage.BRAIN: "gemini-2.5-pro",
        Stage.MOUTH: "gemini-3-flash",
        Stage.MEMORY: "gemini-2.5-flash-lite",
    }


def test_models_for_ignores_blank_and_unknown_entries() -> None:
    settings = LlmSettings()
    chosen = models_for({"brain": "", "eyes": None, "ears": "x", "memory": 3}, settings)
    assert chosen == models_for(None, settings)
    assert chosen[Stage.BRAIN] == settings.brain_model


def test_parse_output_accepts_a_fence_without_language() -> None:
    text = "```\n" + Analysis.model_validate(VALID).model_dump_json() + "\n```"
    assert parse_output(text, Analysis).intent is Intent.PRICING


def test_schema_of_a_recursive_model_keeps_its_definitions() -> None:
    class Node(BaseModel):
        label: str = Field(pattern=r"^[a-z]+$", min_length=1)
        children: list[Node] = Field(default_factory=list)

    schema = response_json_schema(Node)
    assert schema["$ref"] == "#/$defs/Node"
    node = schema["$defs"]["Node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    # Keywords Gemini does not take are dropped; the Pydantic model still enforces them.
    assert "pattern" not in node["properties"]["label"]
    assert "title" not in node
    with pytest.raises(ValueError, match="pattern"):
        parse_output('{"label": "Not Lower"}', Node)


_GEMINI_SCHEMA_KEYWORDS = {
    "type",
    "format",
    "description",
    "enum",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "anyOf",
    "properties",
    "additionalProperties",
    "required",
    "$ref",
    "$defs",
}


def _unsupported_keywords(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _unsupported_keywords(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                # Field and definition names, not keywords.
                for sub in value.values():
                    found |= _unsupported_keywords(sub)
                continue
            if key not in _GEMINI_SCHEMA_KEYWORDS:
                found.add(key)
            found |= _unsupported_keywords(value)
    return found


@pytest.mark.parametrize("name", ["EyesOutput", "BrainOutput", "MouthOutput", "MemoryOutput"])
def test_the_stage_output_models_derive_a_gemini_schema(name: str) -> None:
    from funnel.core.htl import schemas

    model: type[BaseModel] = getattr(schemas, name)
    schema = response_json_schema(model)

    assert set(schema["properties"]) == set(model.model_fields)
    assert _unsupported_keywords(schema) == set()
    assert _unsupported_keywords(response_json_schema(Analysis)) == set()


def test_retry_delays_grow_with_jitter_and_stay_capped() -> None:
    import random

    policy = RetryPolicy(max_retries=5, base_delay_s=0.5, max_delay_s=4.0, rng=random.Random(7))
    first = [policy.delay_s(1) for _ in range(50)]
    third = [policy.delay_s(3) for _ in range(50)]
    assert all(0.25 <= d <= 0.5 for d in first)
    assert all(1.0 <= d <= 2.0 for d in third)
    assert len(set(first)) > 1, "jitter: concurrent retries must not come back in lockstep"
    assert all(policy.delay_s(10) <= 4.0 for _ in range(20))
    # A server's hint raises the wait, within the cap.
    assert policy.delay_s(1, hint_s=3.0) == 3.0
    assert policy.delay_s(1, hint_s=60.0) == 4.0
