"""The one protocol every LLM provider implements: a Pydantic model in, a validated instance out.

Stages never see a provider's SDK. They build an :class:`LlmRequest` naming the output model,
and get back an :class:`LlmResult` carrying the validated output, the token usage and the
latency, or one of the typed :class:`LlmError` subclasses. Retry policy belongs to the adapter
(only rate limits, server errors and timeouts are retried); what to do when a stage finally
fails belongs to the pipeline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

OutputT = TypeVar("OutputT", bound=BaseModel)


class Stage(enum.StrEnum):
    EYES = "eyes"
    BRAIN = "brain"
    MOUTH = "mouth"
    MEMORY = "memory"


@dataclass(frozen=True, slots=True)
class LlmRequest(Generic[OutputT]):
    stage: Stage
    model: str
    #: Instructions: the organisation's policy and the stage's role. Never customer text.
    system: str
    #: The stage's input, with customer text delimited as untrusted data.
    prompt: str
    output_type: type[OutputT]
    prompt_version: str = ""
    temperature: float = 0.3
    max_output_tokens: int = 2048
    timeout_s: float = 30.0
    #: Structured context the offline provider reads instead of the prompt text; a real
    #: model ignores it.
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LlmUsage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class LlmResult(Generic[OutputT]):
    output: OutputT
    usage: LlmUsage
    latency_ms: float
    model: str
    provider: str
    #: The text the model produced, kept for the trace.
    raw_text: str = ""
    attempts: int = 1


class LlmError(Exception):
    """A stage's call failed. ``retryable`` says whether the adapter would try again."""

    retryable = False

    def __init__(self, message: str, *, provider: str = "", model: str = "") -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model


class LlmTimeout(LlmError):
    retryable = True


class LlmRateLimited(LlmError):
    retryable = True


class LlmUnavailable(LlmError):
    """The provider answered 5xx or could not be reached."""

    retryable = True


class LlmInvalidOutput(LlmError):
    """The model answered, but not with JSON that validates against the output model."""

    def __init__(self, message: str, *, raw_text: str, provider: str = "", model: str = "") -> None:
        super().__init__(message, provider=provider, model=model)
        self.raw_text = raw_text


class LlmRejected(LlmError):
    """The provider refused the request (4xx other than 429: bad key, blocked content)."""


@runtime_checkable
class LlmClient(Protocol):
    @property
    def provider(self) -> str: ...

    @property
    def is_offline(self) -> bool: ...

    async def generate(self, request: LlmRequest[OutputT]) -> LlmResult[OutputT]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of ``dimensions`` floats, unit length, for cosine search."""

    @property
    def model(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    async def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    async def embed_query(self, text: str) -> list[float]: ...
