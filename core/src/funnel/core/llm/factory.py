"""Pick the LLM client and the embedder from settings.

``provider`` unset means "Gemini when a key is set, offline otherwise", so ``funnel dev`` with no
key gives the offline demo and the same command with ``GOOGLE_API_KEY`` set talks to Gemini.
An explicit ``provider=gemini`` with no key is a configuration error, not a silent fallback:
a deployed worker that lost its key must fail at start, not answer customers offline.
"""

from __future__ import annotations

from collections.abc import Callable

from funnel.core.llm.base import Embedder, LlmClient
from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.settings import LlmProvider, LlmSettings, Settings


def build_llm_client(
    settings: Settings | LlmSettings,
    offline_factory: Callable[[], LlmClient] | None = None,
) -> LlmClient:
    """The configured :class:`LlmClient`; ``offline_factory`` replaces the offline provider."""
    llm = settings.llm if isinstance(settings, Settings) else settings
    provider = llm.effective_provider
    if provider is LlmProvider.GEMINI:
        _require_key(llm, "llm")
        # The SDK is imported only on this branch: an offline run needs no network stack.
        from funnel.core.llm.gemini import GeminiClient

        return GeminiClient(llm)
    if offline_factory is not None:
        return offline_factory()
    from funnel.core.llm.offline import OfflineLlmClient

    return OfflineLlmClient()


def build_embedder(settings: Settings) -> Embedder:
    """The configured :class:`Embedder`: Gemini's, or the offline hashing embedder.

    ``embeddings.provider`` unset follows the LLM key, like :func:`build_llm_client`. Offline,
    the hashing embedder keeps ``embeddings.dimensions`` so its vectors fit the same column;
    its model name differs, which is what keeps the two kinds of vector apart.
    """
    provider = settings.embedding_provider
    if provider is LlmProvider.GEMINI:
        _require_key(settings.llm, "embeddings")
        from funnel.core.llm.embeddings import GeminiEmbedder

        return GeminiEmbedder(settings.llm, settings.embeddings)
    return HashingEmbedder(dimensions=settings.embeddings.dimensions)


def _require_key(llm: LlmSettings, what: str) -> None:
    if not llm.api_key.get_secret_value():
        raise ValueError(
            f"{what} provider is gemini but no API key is set "
            "(FUNNEL_LLM__API_KEY or GOOGLE_API_KEY); unset the provider to run offline"
        )
