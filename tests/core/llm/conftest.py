"""Fixtures for the LLM tests: one fake Gemini server per session, reset before each test.

The SDK is real; only the far side of the wire is fake. The server runs in its own thread, so
async tests can call the SDK's async client from their loop without serving themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from funnel.core.llm.fake_gemini import FAKE_API_KEY, FakeGemini
from funnel.core.llm.gemini import RetryPolicy
from funnel.core.settings import LlmSettings

# Read by google-genai itself: any of them left in a developer's shell would send the SDK to
# Vertex AI, to a real key or to a real endpoint.
_SDK_VARIABLES = (
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
)


@pytest.fixture(autouse=True)
def _no_sdk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SDK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def fake_gemini_server() -> Iterator[FakeGemini]:
    with FakeGemini() as fake:
        yield fake


@pytest.fixture
def fake_gemini(fake_gemini_server: FakeGemini) -> Iterator[FakeGemini]:
    fake_gemini_server.reset()
    yield fake_gemini_server
    fake_gemini_server.reset()


def llm_settings(fake: FakeGemini, **overrides: object) -> LlmSettings:
    """Settings pointing at ``fake``: short timeouts so "slow" tests take a second, not minutes."""
    values: dict[str, object] = {
        "api_key": SecretStr(FAKE_API_KEY),
        "base_url": fake.base_url,
        "timeout_s": 2.0,
        "max_retries": 2,
        **overrides,
    }
    return LlmSettings.model_validate(values)


class RecordingSleep:
    """Stands in for ``asyncio.sleep`` between retries: records the waits, sleeps 0."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def fast_retry(max_retries: int = 2) -> RetryPolicy:
    return RetryPolicy(max_retries=max_retries, base_delay_s=0.01, max_delay_s=0.05)
