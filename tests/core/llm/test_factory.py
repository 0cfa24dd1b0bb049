"""Choosing the LLM client and the embedder from settings."""

from __future__ import annotations

import os

import pytest
from pydantic import BaseModel

from funnel.core.llm.base import LlmClient, LlmRequest, Stage
from funnel.core.llm.embeddings import HASHING_MODEL, GeminiEmbedder, HashingEmbedder
from funnel.core.llm.factory import build_embedder, build_llm_client
from funnel.core.llm.fake_gemini import FAKE_API_KEY, FakeGemini, Reply
from funnel.core.llm.gemini import GeminiClient
from funnel.core.settings import LlmProvider, Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Only what a test sets: no key from the developer's shell or a .env file."""
    for key in list(os.environ):
        if key.startswith("FUNNEL_") or key in {"GOOGLE_API_KEY", "GEMINI_API_KEY"}:
            monkeypatch.delenv(key)
    monkeypatch.chdir(str(tmp_path))


class Greeting(BaseModel):
    text: str


def settings(**llm: object) -> Settings:
    return Settings.model_validate({"llm": llm})


async def test_a_key_selects_gemini_end_to_end(fake_gemini: FakeGemini) -> None:
    client = build_llm_client(settings(api_key=FAKE_API_KEY, base_url=fake_gemini.base_url))
    assert isinstance(client, GeminiClient)
    fake_gemini.queue(Reply.json({"text": "Namaste!"}))

    result = await client.generate(
        LlmRequest(
            stage=Stage.MOUTH,
            model="gemini-2.5-flash",
            system="Greet.",
            prompt="hi",
            output_type=Greeting,
        )
    )

    assert result.output.text == "Namaste!"
    assert fake_gemini.requests[0].api_key == FAKE_API_KEY
    await client.aclose()


def test_the_conventional_google_api_key_selects_gemini(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "from-the-environment")
    assert isinstance(build_llm_client(Settings()), GeminiClient)
    assert isinstance(build_embedder(Settings()), GeminiEmbedder)


def test_no_key_gives_the_offline_provider() -> None:
    client = build_llm_client(settings())
    assert isinstance(client, LlmClient)
    assert client.is_offline
    assert client.provider == "offline"
    assert type(client).__name__ == "OfflineLlmClient"


def test_an_offline_factory_replaces_the_offline_provider() -> None:
    made: list[LlmClient] = []

    def factory() -> LlmClient:
        client = build_llm_client(settings())
        made.append(client)
        return client

    assert build_llm_client(settings(), offline_factory=factory) is made[0]
    # A key wins over the factory: it is for the offline branch only.
    assert isinstance(
        build_llm_client(settings(api_key="k"), offline_factory=factory), GeminiClient
    )
    assert len(made) == 1


def test_explicit_offline_wins_over_a_key() -> None:
    client = build_llm_client(settings(api_key="k", provider="offline"))
    assert client.is_offline


def test_explicit_gemini_without_a_key_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="no API key"):
        build_llm_client(settings(provider="gemini"))
    with pytest.raises(ValueError, match="no API key"):
        build_embedder(Settings.model_validate({"embeddings": {"provider": "gemini"}}))


def test_embedder_follows_the_key() -> None:
    offline = build_embedder(settings())
    assert isinstance(offline, HashingEmbedder)
    assert (offline.model, offline.dimensions) == (HASHING_MODEL, 768)

    online = build_embedder(settings(api_key="k"))
    assert isinstance(online, GeminiEmbedder)
    assert (online.model, online.dimensions) == ("gemini-embedding-001", 768)


def test_embeddings_provider_can_differ_from_the_llm_s() -> None:
    mixed = Settings.model_validate(
        {
            "llm": {"api_key": "k"},
            "embeddings": {"provider": LlmProvider.OFFLINE, "dimensions": 256},
        }
    )
    embedder = build_embedder(mixed)
    assert isinstance(embedder, HashingEmbedder)
    assert embedder.dimensions == 256
    assert isinstance(build_llm_client(mixed), GeminiClient)
