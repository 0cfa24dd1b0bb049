"""The Gemini adapter: :class:`LlmClient` on Google's ``google-genai`` SDK (async client).

What the adapter guarantees, whatever the SDK does:

- Structured output is always validated here against the request's Pydantic model. The SDK's
  ``.parsed`` is silently ``None`` on bad JSON, so it is never trusted; a reply wrapped in a
  Markdown code fence is salvaged; anything else raises :class:`LlmInvalidOutput` with the raw
  text for the trace.
- The schema goes out as ``response_json_schema`` derived from the model (see
  :func:`response_json_schema`), not as ``response_schema``: the SDK's own conversion of a
  Pydantic model refuses ``dict`` fields (``additionalProperties``) and discriminated unions on
  the Gemini API, both of which stage models use.
- Only rate limits (429), server errors (5xx), transport failures and timeouts are retried, with
  exponential backoff and jitter, up to ``LlmSettings.max_retries`` times. Invalid output and
  other 4xx are final at once: asking again costs money and rarely helps.
- Timeouts are enforced twice: by the SDK's HTTP timeout and by ``asyncio.wait_for`` around the
  call, so a stalled stream or a slow DNS lookup cannot hold a turn past its budget.
- The API key never reaches a log record or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, ValidationError

from funnel.core.llm.base import (
    LlmError,
    LlmInvalidOutput,
    LlmRateLimited,
    LlmRejected,
    LlmRequest,
    LlmResult,
    LlmTimeout,
    LlmUnavailable,
    LlmUsage,
    OutputT,
    Stage,
)
from funnel.core.settings import LlmSettings

log = logging.getLogger(__name__)

PROVIDER = "gemini"

T = TypeVar("T")


# ---------------------------------------------------------------------------- model per stage


def models_for(
    organisation_llm_models: Mapping[str, Any] | None, settings: LlmSettings
) -> dict[Stage, str]:
    """The model each stage uses: the organisation's override where it names one, else settings.

    ``organisation_llm_models`` is the organisation's JSON setting, such as
    ``{"brain": "gemini-2.5-pro"}``. Keys that are not a stage and blank values are ignored, so a
    half-filled form in the dashboard falls back to the defaults instead of sending an empty
    model name.
    """
    chosen = {
        Stage.EYES: settings.eyes_model,
        Stage.BRAIN: settings.brain_model,
        Stage.MOUTH: settings.mouth_model,
        Stage.MEMORY: settings.memory_model,
    }
    for key, value in (organisation_llm_models or {}).items():
        try:
            stage = Stage(str(key).strip().lower())
        except ValueError:
            continue
        if isinstance(value, str) and value.strip():
            chosen[stage] = value.strip()
    return chosen


# ---------------------------------------------------------------------------- output schema

# The JSON Schema keywords Gemini's ``responseJsonSchema`` understands. Anything else (pattern,
# minLength, exclusiveMinimum, discriminator, default, title...) is dropped from what is sent:
# the model is guided by the rest, and the Pydantic model still enforces every constraint when
# the answer is validated here.
_SCHEMA_KEYWORDS = frozenset(
    {
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
)


def response_json_schema(output_type: type[BaseModel]) -> dict[str, Any]:
    """The schema sent as ``generationConfig.responseJsonSchema`` for ``output_type``.

    Pydantic's JSON Schema, reduced to what Gemini accepts: ``$ref`` inlined (unless the model is
    recursive, where ``$defs`` stay), ``const`` turned into a one-value ``enum``, ``oneOf`` into
    ``anyOf`` (Gemini reads them alike), unsupported keywords dropped.
    """
    schema = output_type.model_json_schema(mode="validation")
    defs: dict[str, Any] = schema.pop("$defs", {})
    recursive = any(_refers_to(defs, name, set()) for name in defs)
    cleaned: dict[str, Any]
    if recursive:
        cleaned = _clean(schema, defs={}, inline=False)
        cleaned["$defs"] = {name: _clean(d, defs={}, inline=False) for name, d in defs.items()}
    else:
        cleaned = _clean(schema, defs=defs, inline=True)
    return cleaned


def _refers_to(defs: dict[str, Any], name: str, seen: set[str]) -> bool:
    """Whether the definition ``name`` reaches itself through ``$ref`` links."""

    def refs(node: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref.removeprefix("#/$defs/"))
            for value in node.values():
                found |= refs(value)
        elif isinstance(node, list):
            for value in node:
                found |= refs(value)
        return found

    stack = list(refs(defs.get(name)))
    while stack:
        current = stack.pop()
        if current == name:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack.extend(refs(defs.get(current)))
    return False


def _clean(node: Any, *, defs: dict[str, Any], inline: bool) -> Any:
    if isinstance(node, list):
        return [_clean(item, defs=defs, inline=inline) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    ref = node.get("$ref")
    if inline and isinstance(ref, str) and ref.startswith("#/$defs/"):
        # Siblings of a $ref (a field's description) override the referenced definition's.
        target = dict(defs[ref.removeprefix("#/$defs/")])
        del node["$ref"]
        target.update(node)
        node = target
    if "const" in node and "enum" not in node:
        node["enum"] = [node["const"]]
    if "oneOf" in node and "anyOf" not in node:
        node["anyOf"] = node.pop("oneOf")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _SCHEMA_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _clean(sub, defs=defs, inline=inline) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "prefixItems", "$defs"):
            if key == "$defs" and isinstance(value, dict):
                out[key] = {k: _clean(v, defs=defs, inline=inline) for k, v in value.items()}
            else:
                out[key] = _clean(value, defs=defs, inline=inline)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------- output parsing

_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)


def parse_output(text: str, output_type: type[OutputT]) -> OutputT:
    """Validate the model's text against ``output_type``; a fenced reply is unwrapped first.

    Raises ``ValueError`` (``ValidationError`` is one) when the text is not JSON for the model.
    """
    try:
        return output_type.model_validate_json(text)
    except ValidationError:
        fenced = _FENCE.match(text)
        if fenced is None:
            raise
        return output_type.model_validate_json(fenced.group("body"))


# ---------------------------------------------------------------------------- retries


@dataclass(slots=True)
class RetryPolicy:
    """Exponential backoff with jitter for the retryable errors; shared by LLM and embeddings."""

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    rng: random.Random = field(default_factory=random.Random)

    def delay_s(self, attempt: int, hint_s: float | None = None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based).

        "Equal jitter": half the exponential step is kept, half is random, so concurrent turns
        that hit one rate limit do not come back in lockstep. A server's retry hint (429's
        ``RetryInfo``) raises the wait, but never past ``max_delay_s``: a customer is waiting.
        """
        step = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        wait = step / 2 + self.rng.uniform(0, step / 2)
        if hint_s is not None:
            wait = max(wait, hint_s)
        return min(wait, self.max_delay_s)


Sleep = Callable[[float], Awaitable[None]]


def _retry_hint_s(exc: genai_errors.APIError) -> float | None:
    """The ``retryDelay`` a 429 carries in its ``RetryInfo`` detail (``"13s"``), if any."""
    details = exc.details if isinstance(exc.details, dict) else {}
    error = details.get("error", details)
    for detail in error.get("details", []) if isinstance(error, dict) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def map_error(exc: BaseException, *, model: str, secret: str) -> LlmError:
    """One SDK or transport failure as the protocol's typed error, with no key in its message."""
    if isinstance(exc, LlmError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        summary = _redact(
            f"Gemini answered {exc.code} {exc.status or ''}: {exc.message or ''}", secret
        )
        if exc.code == 429:
            return LlmRateLimited(summary, provider=PROVIDER, model=model)
        if exc.code == 408:
            return LlmTimeout(summary, provider=PROVIDER, model=model)
        if exc.code >= 500:
            return LlmUnavailable(summary, provider=PROVIDER, model=model)
        return LlmRejected(summary, provider=PROVIDER, model=model)
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return LlmTimeout("Gemini did not answer in time", provider=PROVIDER, model=model)
    if isinstance(exc, httpx2.TransportError | OSError):
        # Connection refused, reset, DNS: the service is unreachable, which may pass.
        return LlmUnavailable(
            _redact(f"Gemini unreachable: {type(exc).__name__}: {exc}", secret),
            provider=PROVIDER,
            model=model,
        )
    raise exc


async def call_with_retries(
    operation: Callable[[], Awaitable[T]],
    *,
    model: str,
    timeout_s: float,
    policy: RetryPolicy,
    secret: str,
    sleep: Sleep = asyncio.sleep,
    what: str = "llm.call",
) -> tuple[T, int]:
    """Run ``operation`` under ``timeout_s``, retrying only retryable failures.

    Returns the result and the number of attempts it took. The last error is raised when the
    retries run out; a non-retryable one is raised at once.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            result = await asyncio.wait_for(operation(), timeout=timeout_s)
            return result, attempt
        except Exception as exc:
            error = map_error(exc, model=model, secret=secret)
            hint = _retry_hint_s(exc) if isinstance(exc, genai_errors.APIError) else None
            # The cause is dropped on purpose: the SDK's exception text and its request object
            # can carry the URL and headers, and a traceback printer would show them.
            error.__cause__ = None
            error.__suppress_context__ = True
            if not error.retryable or attempt > policy.max_retries:
                log.warning(
                    f"{what}.failed",
                    extra={
                        "model": model,
                        "attempts": attempt,
                        "error": type(error).__name__,
                        "detail": str(error),
                    },
                )
                raise error from None
            delay = policy.delay_s(attempt, hint)
            log.info(
                f"{what}.retry",
                extra={
                    "model": model,
                    "attempt": attempt,
                    "error": type(error).__name__,
                    "delay_s": round(delay, 3),
                },
            )
            await sleep(delay)


# ---------------------------------------------------------------------------- the client


def build_genai_client(settings: LlmSettings) -> genai.Client:
    """A ``google.genai.Client`` for the Gemini Developer API as ``settings`` describe it.

    The async transport is pinned to httpx2 (a hard dependency of the SDK) with its own retries
    off: otherwise the SDK switches to aiohttp whenever some other package installed it, and the
    worker image and the test venv would run different HTTP stacks. The SDK's own retry
    options stay unset; retries are this module's.
    """
    http_options = types.HttpOptions(
        base_url=settings.base_url or None,
        timeout=math.ceil(settings.timeout_s * 1000),
        async_client_args={"transport": httpx2.AsyncHTTPTransport(retries=0)},
    )
    return genai.Client(
        vertexai=False,
        api_key=settings.api_key.get_secret_value(),
        http_options=http_options,
    )


class GeminiClient:
    """:class:`~funnel.core.llm.base.LlmClient` for Gemini."""

    def __init__(
        self,
        settings: LlmSettings,
        *,
        client: genai.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not settings.api_key.get_secret_value():
            raise ValueError("GeminiClient needs an API key (FUNNEL_LLM__API_KEY, GOOGLE_API_KEY)")
        self._settings = settings
        self._secret = settings.api_key.get_secret_value()
        self._client = client if client is not None else build_genai_client(settings)
        self._retry = retry if retry is not None else RetryPolicy(max_retries=settings.max_retries)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"GeminiClient(base_url={self._settings.base_url or 'default'!r})"

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def is_offline(self) -> bool:
        return False

    async def generate(self, request: LlmRequest[OutputT]) -> LlmResult[OutputT]:
        # The settings are the operator's ceiling; a stage may ask for less.
        timeout_s = min(request.timeout_s, self._settings.timeout_s)
        config = types.GenerateContentConfig(
            system_instruction=request.system or None,
            temperature=request.temperature,
            max_output_tokens=request.max_output_tokens,
            response_mime_type="application/json",
            response_json_schema=response_json_schema(request.output_type),
            candidate_count=1,
            # No tools are ever passed; switching the SDK's function-calling loop off also stops
            # it logging "AFC is enabled" on every call.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            http_options=types.HttpOptions(timeout=math.ceil(timeout_s * 1000)),
        )

        async def call() -> types.GenerateContentResponse:
            return await self._client.aio.models.generate_content(
                model=request.model, contents=request.prompt, config=config
            )

        started = time.perf_counter()
        response, attempts = await call_with_retries(
            call,
            model=request.model,
            timeout_s=timeout_s,
            policy=self._retry,
            secret=self._secret,
            sleep=self._sleep,
            what="llm.generate",
        )
        latency_ms = (time.perf_counter() - started) * 1000
        text = _response_text(response)
        usage = _usage(response)
        blocked = _blocked_reason(response)
        if blocked is not None:
            # A refusal on content grounds is final: the same prompt is refused again.
            log.warning(
                "llm.generate.blocked",
                extra={"stage": request.stage.value, "model": request.model, "reason": blocked},
            )
            raise LlmRejected(
                f"{request.stage.value}: Gemini blocked the content ({blocked})",
                provider=PROVIDER,
                model=request.model,
            )
        try:
            output = parse_output(text, request.output_type)
        except ValueError as exc:
            finish = _finish_reason(response)
            log.warning(
                "llm.generate.invalid_output",
                extra={
                    "stage": request.stage.value,
                    "model": request.model,
                    "finish_reason": finish,
                    "chars": len(text),
                },
            )
            raise LlmInvalidOutput(
                f"{request.stage.value}: output is not a valid {request.output_type.__name__} "
                f"(finish reason {finish}): {_first_error(exc)}",
                raw_text=text,
                provider=PROVIDER,
                model=request.model,
            ) from None
        log.info(
            "llm.generate.ok",
            extra={
                "stage": request.stage.value,
                "model": request.model,
                "attempts": attempts,
                "latency_ms": round(latency_ms, 1),
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
            },
        )
        return LlmResult(
            output=output,
            usage=usage,
            latency_ms=latency_ms,
            model=request.model,
            provider=PROVIDER,
            raw_text=text,
            attempts=attempts,
        )

    async def aclose(self) -> None:
        await self._client.aio.aclose()


def _response_text(response: types.GenerateContentResponse) -> str:
    # ``response.text`` warns and skips non-text parts (thoughts); joining the text parts of the
    # first candidate is the same without the noise.
    if not response.candidates:
        return ""
    content = response.candidates[0].content
    if content is None or not content.parts:
        return ""
    return "".join(part.text for part in content.parts if part.text and not part.thought)


# Finish reasons that mean "refused", as opposed to "ran out of tokens" or "done".
_BLOCKING_FINISH = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE"}
)


def _blocked_reason(response: types.GenerateContentResponse) -> str | None:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        return f"prompt: {feedback.block_reason.value}"
    if response.candidates and response.candidates[0].finish_reason is not None:
        finish = str(response.candidates[0].finish_reason.value)
        if finish in _BLOCKING_FINISH:
            return f"output: {finish}"
    return None


def _finish_reason(response: types.GenerateContentResponse) -> str:
    if response.candidates and response.candidates[0].finish_reason is not None:
        return str(response.candidates[0].finish_reason.value)
    return "UNKNOWN"


def _usage(response: types.GenerateContentResponse) -> LlmUsage:
    meta = response.usage_metadata
    if meta is None:
        return LlmUsage()
    # Thinking tokens are billed as output, so they count as output here.
    output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return LlmUsage(input_tokens=meta.prompt_token_count or 0, output_tokens=output)


def _first_error(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "(root)"
        return f"{where}: {first.get('msg', '')}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


__all__ = [
    "PROVIDER",
    "GeminiClient",
    "RetryPolicy",
    "build_genai_client",
    "call_with_retries",
    "map_error",
    "models_for",
    "parse_output",
    "response_json_schema",
]
