"""Funnel's configuration: the only place that reads the environment.

One sub-model per concern, read from ``FUNNEL_*`` variables with ``__`` nesting
(``FUNNEL_DATABASE__URL``, ``FUNNEL_KAFKA__BOOTSTRAP_SERVERS``) and from a ``.env`` file for local
runs. Two conventional names the original system documented are honoured too: ``DATABASE_URL``
and ``GOOGLE_API_KEY``; a ``FUNNEL_`` variable wins when both are set.

Secrets are ``SecretStr`` so they never print. Outside development and test, a secret left at its
development placeholder is refused at start-up rather than discovered in production.
"""

from __future__ import annotations

import enum
import functools
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Values that mark a secret as "not configured". Accepted in development and test only.
DEV_PLACEHOLDER = "dev-insecure-change-me"
_PLACEHOLDERS = frozenset({"", DEV_PLACEHOLDER, "changeme", "change-me", "secret", "test"})


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def is_local(self) -> bool:
        return self in (Environment.DEVELOPMENT, Environment.TEST)


class DatabaseSettings(BaseModel):
    #: SQLAlchemy URL (``postgresql+asyncpg://…``). Empty means "start an embedded server" for
    #: ``funnel dev`` and the tests; every deployed process must set it.
    url: SecretStr = SecretStr("")
    pool_size: int = Field(default=10, ge=1, le=200)
    max_overflow: int = Field(default=10, ge=0, le=200)
    pool_timeout_s: float = Field(default=10.0, gt=0)
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    #: A pooled connection idle longer than this is pinged before use (where the process pings
    #: at all: the API does, the worker retries instead). 0 pings at every checkout. A
    #: connection back in the pool a moment ago is almost always alive, and the ping costs
    #: three round trips (BEGIN, an empty statement, ROLLBACK) per request.
    ping_after_idle_s: float = Field(default=10.0, ge=0)
    echo: bool = False

    @field_validator("url", mode="before")
    @classmethod
    def _normalise_driver(cls, value: Any) -> Any:
        """Accept the conventional ``postgres://`` and ``postgresql://`` forms too."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(raw, str):
            for prefix in ("postgres://", "postgresql://"):
                if raw.startswith(prefix):
                    return "postgresql+asyncpg://" + raw[len(prefix) :]
        return value


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:9092"
    #: Inbound events topic. Kubernetes gives each organisation its own; ``funnel dev`` shares one.
    inbound_topic: str = "funnel.inbound"
    dead_letter_topic: str = "funnel.inbound.dlq"
    partitions: int = Field(default=8, ge=1, le=1024)
    consumer_group: str = "funnel-workers"
    #: aiokafka's idempotent producer needs InitProducerId v>0; Tansu only answers v0.
    enable_idempotence: bool = False
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    #: Events being processed at once per worker process, across all its partitions.
    max_in_flight: int = Field(default=500, ge=1, le=100_000)


class SqsSettings(BaseModel):
    queue_url: str = ""
    dead_letter_queue_url: str = ""
    region: str = "eu-west-1"
    endpoint_url: str = ""
    access_key_id: SecretStr = SecretStr("")
    secret_access_key: SecretStr = SecretStr("")
    wait_time_s: int = Field(default=20, ge=0, le=20)
    visibility_timeout_s: int = Field(default=60, ge=0, le=43_200)
    #: Receiver micro-batcher: how long a request may wait for others to share its batch.
    batch_linger_ms: float = Field(default=5.0, ge=0, le=1_000)
    #: Largest SQS message body the receiver sends (SQS's classic limit; also the batch total).
    max_message_bytes: int = Field(default=262_144, ge=1_024, le=1_048_576)
    #: Receiver: entries waiting for a batch before new requests are refused with 503.
    publish_queue_size: int = Field(default=2_000, ge=10, le=1_000_000)
    #: Receiver: SendMessageBatch calls in flight at once.
    publish_concurrency: int = Field(default=8, ge=1, le=64)
    #: Receiver: how long a request waits for SQS before answering 503 so Meta retries.
    publish_timeout_s: float = Field(default=5.0, gt=0, le=60)


class WhatsAppChannelConfig(BaseModel):
    """One channel the receiver serves, as its settings (a Kubernetes Secret) describe it."""

    phone_number_id: str
    #: Several secrets are accepted at once so an app secret can be rotated without downtime.
    app_secrets: list[SecretStr]
    verify_token: SecretStr
    organisation_id: str = ""
    #: Routes WABA-level changes (template status updates) that carry no phone number id.
    waba_id: str = ""


class WhatsAppSettings(BaseModel):
    graph_base_url: str = "https://graph.facebook.com"
    graph_version: str = "v23.0"
    request_timeout_s: float = Field(default=15.0, gt=0)
    #: HTTP connections to the Graph API per process; further calls queue in front of the pool
    #: (see ``funnel.core.whatsapp.http``).
    max_connections: int = Field(default=32, ge=1, le=1_000)
    #: Channels served by this receiver (JSON in ``FUNNEL_WHATSAPP__CHANNELS``).
    channels: list[WhatsAppChannelConfig] = Field(default_factory=list)
    #: Verify token for the GET handshake when a channel has none of its own.
    verify_token: SecretStr = SecretStr(DEV_PLACEHOLDER)
    default_throughput_mps: float = Field(default=80.0, gt=0)


class WorkerSettings(BaseModel):
    """The pipeline worker: debounce, retries and the outbox sender."""

    #: A customer's messages this close together become one turn.
    debounce_s: float = Field(default=1.5, ge=0, le=30)
    #: However fast the customer keeps typing, a turn starts this long after the first message.
    max_debounce_s: float = Field(default=6.0, ge=0, le=120)
    #: Attempts at an event that keeps failing for a reason other than infrastructure, before it
    #: goes to the dead-letter topic with its error.
    max_event_attempts: int = Field(default=5, ge=1, le=100)
    event_retry_base_s: float = Field(default=0.5, gt=0)
    #: Sends in flight at once per worker process.
    sender_concurrency: int = Field(default=64, ge=1, le=10_000)
    sender_batch: int = Field(default=100, ge=1, le=1_000)
    sender_poll_s: float = Field(default=0.5, gt=0)
    #: Per-recipient pacing (WhatsApp's pair rate): sustained interval and burst.
    pair_interval_s: float = Field(default=6.0, gt=0)
    pair_burst: int = Field(default=5, ge=1)
    #: A send claimed by a sender that then vanished is taken again after this long. Meanwhile
    #: the status webhook (which carries the outbox id) can record it as sent, so a crash after
    #: Meta accepted a message does not send it twice.
    sending_lease_s: float = Field(default=120.0, ge=1.0)
    #: Download inbound media and keep a copy (Meta's URLs expire in minutes).
    download_media: bool = True
    drain_timeout_s: float = Field(default=30.0, gt=0)


class LlmProvider(enum.StrEnum):
    GEMINI = "gemini"
    OFFLINE = "offline"


class LlmSettings(BaseModel):
    #: ``None`` picks Gemini when an API key is set and the offline provider otherwise.
    provider: LlmProvider | None = None
    api_key: SecretStr = SecretStr("")
    base_url: str = ""
    eyes_model: str = "gemini-2.5-flash"
    brain_model: str = "gemini-2.5-flash"
    mouth_model: str = "gemini-2.5-flash"
    memory_model: str = "gemini-2.5-flash-lite"
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)

    @property
    def effective_provider(self) -> LlmProvider:
        if self.provider is not None:
            return self.provider
        return LlmProvider.GEMINI if self.api_key.get_secret_value() else LlmProvider.OFFLINE


def _default_grounding_thresholds() -> dict[LlmProvider, float]:
    # docs/knowledge.md: offline measured on the labelled set; gemini provisional, set higher
    # because its cosine similarities run higher, until its own sweep replaces it.
    return {LlmProvider.OFFLINE: 0.50, LlmProvider.GEMINI: 0.65}


class EmbeddingsSettings(BaseModel):
    #: ``None`` follows the LLM (Gemini with an API key, offline without).
    provider: LlmProvider | None = None
    model: str = "gemini-embedding-001"
    dimensions: int = Field(default=768, ge=1, le=4096)
    batch_size: int = Field(default=64, ge=1, le=250)
    #: Retrieval score (0..1) a knowledge hit needs before the bot may state facts from it, per
    #: embedding provider: scores depend on the embedder's similarity scale (docs/knowledge.md).
    grounding_thresholds: dict[LlmProvider, float] = Field(
        default_factory=_default_grounding_thresholds
    )
    #: When set, used whatever the provider (a value from your own sweep).
    grounding_threshold: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("grounding_thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[LlmProvider, float]) -> dict[LlmProvider, float]:
        if any(not 0.0 <= v <= 1.0 for v in value.values()):
            raise ValueError("grounding thresholds are between 0 and 1")
        # A partial mapping from the environment keeps the defaults for the other providers.
        return {**_default_grounding_thresholds(), **value}

    def threshold_for(self, provider: LlmProvider) -> float:
        if self.grounding_threshold is not None:
            return self.grounding_threshold
        return self.grounding_thresholds[provider]


class AuthSettings(BaseModel):
    #: Signs access tokens and invitations.
    jwt_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)
    jwt_algorithm: str = "HS256"
    access_token_ttl_s: int = Field(default=900, ge=60)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=3600)
    #: A refresh token rotated at most this long ago and presented again gets a sibling in its
    #: family instead of the family being revoked as stolen: two tabs (or a lost answer retried)
    #: refreshing with one token at the same moment. Later reuse still revokes. 0 turns it off.
    refresh_reuse_grace_s: int = Field(default=10, ge=0, le=60)
    invitation_ttl_s: int = Field(default=7 * 24 * 3600, ge=3600)
    #: Fernet keys (urlsafe base64, 32 bytes) encrypting channel secrets at rest. The first
    #: encrypts; all decrypt, so keys rotate by prepending a new one.
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr(DEV_PLACEHOLDER)]
    )
    #: Shared secret for service-to-service calls (``/internals``).
    service_token: SecretStr = SecretStr(DEV_PLACEHOLDER)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        return (
            [k.strip() for k in value.split(",") if k.strip()] if isinstance(value, str) else value
        )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        return (
            [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value
        )


class LogFormat(enum.StrEnum):
    JSON = "json"
    CONSOLE = "console"


class ObservabilitySettings(BaseModel):
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON
    #: Port of the Prometheus endpoint for processes that serve no HTTP of their own (bridge,
    #: worker, operator). 0 disables it.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    service_name: str = "funnel"


class OperatorSettings(BaseModel):
    """``funnel operator run``: which FunnelTenants it reconciles and how it coordinates."""

    #: Namespace to watch; empty watches every namespace (the chart's default).
    namespace: str = ""
    #: kopf peering object shared by the replicas; only the highest-priority live one reconciles.
    peering_name: str = "funnel-operator"
    #: Run without peering (a single replica, or tests).
    standalone: bool = False
    #: How often every tenant is re-checked against its children, repairing hand edits and
    #: refreshing status even when no watch event arrives.
    resync_interval_s: float = Field(default=60.0, gt=0)
    #: Delay before retrying a tenant whose Secrets are missing or whose API calls failed.
    retry_delay_s: float = Field(default=15.0, gt=0)
    #: Image for a component whose FunnelTenant names none: ``<registry>/funnel-<image>:<tag>``.
    image_registry: str = "ghcr.io/funnel"
    image_tag: str = "0.1.0"
    #: The callback URL a tenant registers with Meta, shown in its status; ``{slug}``,
    #: ``{namespace}`` and ``{name}`` are filled in per tenant.
    webhook_url_template: str = "https://{slug}.hooks.funnel.example/webhook"
    #: Port of kopf's liveness endpoint (``/healthz``).
    health_port: int = Field(default=8080, ge=1, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FUNNEL_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    environment: Environment = Environment.DEVELOPMENT
    #: Where ``funnel dev`` and the embedded services keep their state.
    state_dir: Path = Path(".funnel")
    #: The built dashboard the API serves under ``/app/``; unset: ``frontend/dist`` of the
    #: source checkout the API runs from. Images set it to where they copied the build.
    frontend_dist: Path | None = None

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    sqs: SqsSettings = Field(default_factory=SqsSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    embeddings: EmbeddingsSettings = Field(default_factory=EmbeddingsSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    operator: OperatorSettings = Field(default_factory=OperatorSettings)

    @property
    def embedding_provider(self) -> LlmProvider:
        """The embedder in use: ``embeddings.provider``, or the LLM's when unset."""
        return self.embeddings.provider or self.llm.effective_provider

    @property
    def grounding_threshold(self) -> float:
        """The grounding threshold for the embedder in use."""
        return self.embeddings.threshold_for(self.embedding_provider)

    @model_validator(mode="before")
    @classmethod
    def _conventional_names(cls, data: Any) -> Any:
        """Honour ``DATABASE_URL`` and ``GOOGLE_API_KEY`` when no ``FUNNEL_`` value is given."""
        if not isinstance(data, dict):
            return data
        database_url = os.environ.get("DATABASE_URL")
        if database_url:
            database = dict(data.get("database") or {})
            database.setdefault("url", database_url)
            data["database"] = database
        google_key = os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")
        if google_key:
            llm = dict(data.get("llm") or {})
            llm.setdefault("api_key", google_key)
            data["llm"] = llm
        return data

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.environment.is_local:
            return self
        problems = [name for name, value in self._secrets() if _is_placeholder(value)]
        if problems:
            raise ValueError(
                f"environment is {self.environment.value} but these secrets are unset or still "
                f"the development placeholder: {', '.join(problems)}"
            )
        return self

    def _secrets(self) -> list[tuple[str, SecretStr]]:
        secrets = [
            ("FUNNEL_AUTH__JWT_SECRET", self.auth.jwt_secret),
            ("FUNNEL_AUTH__SERVICE_TOKEN", self.auth.service_token),
        ]
        secrets += [("FUNNEL_AUTH__ENCRYPTION_KEYS", k) for k in self.auth.encryption_keys or []]
        if not self.auth.encryption_keys:
            secrets.append(("FUNNEL_AUTH__ENCRYPTION_KEYS", SecretStr("")))
        for channel in self.whatsapp.channels:
            label = f"FUNNEL_WHATSAPP__CHANNELS[{channel.phone_number_id}]"
            secrets.append((f"{label}.verify_token", channel.verify_token))
            secrets += [(f"{label}.app_secrets", s) for s in channel.app_secrets]
        return secrets


class OperatorProcessSettings(BaseSettings):
    """What ``funnel operator run`` reads. The operator holds none of the platform's secrets
    (the tenants' pods get theirs from Kubernetes Secrets), so the production check of
    :class:`Settings` for unset secrets does not apply to it."""

    model_config = SettingsConfigDict(
        env_prefix="FUNNEL_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    environment: Environment = Environment.DEVELOPMENT
    operator: OperatorSettings = Field(default_factory=OperatorSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)


def _is_placeholder(value: SecretStr) -> bool:
    return value.get_secret_value().strip().lower() in _PLACEHOLDERS


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build ``Settings(...)`` directly instead."""
    return Settings()
