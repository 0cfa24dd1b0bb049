"""LLM access: the protocol, the Gemini adapter, the offline provider, and embeddings."""

from funnel.core.llm.base import (
    Embedder,
    LlmClient,
    LlmError,
    LlmInvalidOutput,
    LlmRateLimited,
    LlmRejected,
    LlmRequest,
    LlmResult,
    LlmTimeout,
    LlmUnavailable,
    LlmUsage,
    Stage,
)

__all__ = [
    "Embedder",
    "LlmClient",
    "LlmError",
    "LlmInvalidOutput",
    "LlmRateLimited",
    "LlmRejected",
    "LlmRequest",
    "LlmResult",
    "LlmTimeout",
    "LlmUnavailable",
    "LlmUsage",
    "Stage",
]
