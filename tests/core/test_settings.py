"""Settings: env nesting, conventional names, secrets, and refusing placeholders in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from funnel.core.settings import (
    DEV_PLACEHOLDER,
    Environment,
    LlmProvider,
    Settings,
)

_PROD_SECRETS = {
    "FUNNEL_AUTH__JWT_SECRET": "a-real-jwt-secret-of-some-length",
    "FUNNEL_AUTH__SERVICE_TOKEN": "a-real-service-token",
    "FUNNEL_AUTH__ENCRYPTION_KEYS": "k1-abcdefghijklmnopqrstuvwxyz012345,k0-old-key-still-decrypts",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Each test sees only the variables it sets, and no .env file from the developer's tree."""
    import os

    for key in list(os.environ):
        if key.startswith("FUNNEL_") or key in {"DATABASE_URL", "GOOGLE_API_KEY", "GEMINI_API_KEY"}:
            monkeypatch.delenv(key)
    monkeypatch.chdir(str(tmp_path))


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_KAFKA__BOOTSTRAP_SERVERS", "10.0.0.1:9092,10.0.0.2:9092")
    monkeypatch.setenv("FUNNEL_KAFKA__PARTITIONS", "32")
    monkeypatch.setenv("FUNNEL_SQS__QUEUE_URL", "http://127.0.0.1:5000/123/inbound")
    settings = Settings()
    assert settings.kafka.bootstrap_servers == "10.0.0.1:9092,10.0.0.2:9092"
    assert settings.kafka.partitions == 32
    assert settings.sqs.queue_url.endswith("/inbound")


def test_invalid_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_KAFKA__PARTITIONS", "zero")
    with pytest.raises(ValidationError, match="partitions"):
        Settings()


def test_conventional_database_url_is_honoured_and_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db.internal:5432/funnel")
    url = Settings().database.url.get_secret_value()
    assert url == "postgresql+asyncpg://app:pw@db.internal:5432/funnel"


def test_funnel_prefixed_database_url_wins_over_conventional(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://other/ignored")
    monkeypatch.setenv("FUNNEL_DATABASE__URL", "postgresql+asyncpg://app@primary/funnel")
    assert Settings().database.url.get_secret_value() == "postgresql+asyncpg://app@primary/funnel"


def test_google_api_key_selects_gemini(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().llm.effective_provider is LlmProvider.OFFLINE
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-key")
    settings = Settings()
    assert settings.llm.api_key.get_secret_value() == "AIza-test-key"
    assert settings.llm.effective_provider is LlmProvider.GEMINI


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_AUTH__JWT_SECRET", "super-secret-value")
    monkeypatch.setenv("FUNNEL_DATABASE__URL", "postgresql+asyncpg://u:hunter2@db/x")
    settings = Settings()
    dumped = repr(settings) + str(settings.model_dump())
    assert "super-secret-value" not in dumped
    assert "hunter2" not in dumped


def test_development_accepts_placeholders() -> None:
    settings = Settings()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.auth.jwt_secret.get_secret_value() == DEV_PLACEHOLDER


def test_production_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_ENVIRONMENT", "production")
    with pytest.raises(ValidationError) as excinfo:
        Settings()
    message = str(excinfo.value)
    assert "FUNNEL_AUTH__JWT_SECRET" in message
    assert "FUNNEL_AUTH__ENCRYPTION_KEYS" in message
    assert DEV_PLACEHOLDER not in message.split("secrets are")[0]


def test_production_with_real_secrets_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNNEL_ENVIRONMENT", "production")
    for key, value in _PROD_SECRETS.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert [k.get_secret_value()[:3] for k in settings.auth.encryption_keys] == ["k1-", "k0-"]


def test_production_refuses_a_channel_with_placeholder_app_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FUNNEL_ENVIRONMENT", "production")
    for key, value in _PROD_SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(
        "FUNNEL_WHATSAPP__CHANNELS",
        '[{"phone_number_id": "106540352242922", "app_secrets": ["changeme"],'
        ' "verify_token": "a-real-verify-token"}]',
    )
    with pytest.raises(ValidationError, match=r"CHANNELS\[106540352242922\]\.app_secrets"):
        Settings()


def test_channels_parse_from_json_with_rotating_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "FUNNEL_WHATSAPP__CHANNELS",
        '[{"phone_number_id": "1", "app_secrets": ["new", "old"], "verify_token": "v"}]',
    )
    (channel,) = Settings().whatsapp.channels
    assert [s.get_secret_value() for s in channel.app_secrets] == ["new", "old"]
    assert isinstance(channel.verify_token, SecretStr)


def test_dotenv_file_is_read_for_local_runs(tmp_path: object) -> None:
    from pathlib import Path

    Path(".env").write_text("FUNNEL_KAFKA__INBOUND_TOPIC=from-dotenv\n")
    assert Settings().kafka.inbound_topic == "from-dotenv"


def test_the_grounding_threshold_follows_the_embedding_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    offline = Settings()
    assert offline.embedding_provider is LlmProvider.OFFLINE
    assert offline.grounding_threshold == 0.50
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-key")
    gemini = Settings()
    assert gemini.embedding_provider is LlmProvider.GEMINI
    assert gemini.grounding_threshold == 0.65
    # Embeddings may be configured apart from the LLM: the threshold is the embedder's.
    monkeypatch.setenv("FUNNEL_EMBEDDINGS__PROVIDER", "offline")
    assert Settings().grounding_threshold == 0.50


def test_grounding_thresholds_can_be_set_per_provider_or_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-key")
    monkeypatch.setenv("FUNNEL_EMBEDDINGS__GROUNDING_THRESHOLDS", '{"gemini": 0.72}')
    settings = Settings()
    assert settings.grounding_threshold == 0.72
    # A partial mapping keeps the other providers' defaults.
    assert settings.embeddings.threshold_for(LlmProvider.OFFLINE) == 0.50
    monkeypatch.setenv("FUNNEL_EMBEDDINGS__GROUNDING_THRESHOLD", "0.6")
    assert Settings().grounding_threshold == 0.6
    monkeypatch.setenv("FUNNEL_EMBEDDINGS__GROUNDING_THRESHOLDS", '{"gemini": 1.5}')
    with pytest.raises(ValidationError, match="between 0 and 1"):
        Settings()


def test_the_worker_retriever_uses_the_embedders_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from funnel.core.knowledge.search import KnowledgeRetriever
    from funnel.core.turns.factory import knowledge_retriever

    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-key")
    # Never connected: building the retriever only creates its (lazy) pool.
    monkeypatch.setenv("FUNNEL_DATABASE__URL", "postgresql+asyncpg://u@127.0.0.1:1/none")
    retriever = knowledge_retriever(Settings())
    assert isinstance(retriever, KnowledgeRetriever)
    assert retriever.threshold == 0.65
