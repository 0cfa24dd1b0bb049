"""The FunnelTenant resource as typed values.

The CRD in ``crds/`` is the contract; these models mirror it, defaults included, because the API
server applies the CRD's defaults but not every client or test server does, and because the
operator re-checks the cross-field rules (the CEL ``x-kubernetes-validations``) itself: a spec that
slipped past them (an API server without CEL, or a resource stored before a rule existed) is
reported as a permanent error instead of producing broken children.
"""

from __future__ import annotations

import enum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

GROUP = "funnel.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "FunnelTenant"
PLURAL = "funneltenants"

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_SECRET_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"  # noqa: S105 - a name pattern
_SECRET_KEY = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 - a key pattern


class _Model(BaseModel):
    # camelCase on the wire like every Kubernetes API; unknown fields are refused, since a typo in
    # a spec silently ignored is a tenant misconfigured without anyone knowing.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Component(enum.StrEnum):
    RECEIVER = "receiver"
    BRIDGE = "bridge"
    WORKER = "worker"
    API = "api"


class Organisation(_Model):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][-A-Za-z0-9_]*$")
    slug: str = Field(min_length=1, max_length=40, pattern=_DNS_LABEL)
    display_name: str = Field(default="", max_length=200)


class WhatsAppSecretRef(_Model):
    name: str = Field(min_length=1, max_length=253, pattern=_SECRET_NAME)
    access_token_key: str = Field(default="access-token", pattern=_SECRET_KEY)
    app_secret_keys: tuple[str, ...] = Field(default=("app-secret",), min_length=1, max_length=4)
    verify_token_key: str = Field(default="verify-token", pattern=_SECRET_KEY)


class WhatsApp(_Model):
    phone_number_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9]+$")
    waba_id: str = Field(default="", max_length=64, pattern=r"^[0-9]*$")
    secret_ref: WhatsAppSecretRef


class LlmModels(_Model):
    eyes: str = ""
    brain: str = ""
    mouth: str = ""
    memory: str = ""


class ApiKeySecretRef(_Model):
    name: str = Field(min_length=1, max_length=253, pattern=_SECRET_NAME)
    key: str = Field(default="api-key", pattern=_SECRET_KEY)


class Llm(_Model):
    provider: str = Field(default="gemini", pattern=r"^(gemini|offline)$")
    models: LlmModels = LlmModels()
    api_key_secret_ref: ApiKeySecretRef | None = None

    @model_validator(mode="after")
    def _key_unless_offline(self) -> Self:
        if self.provider != "offline" and self.api_key_secret_ref is None:
            raise ValueError("llm.apiKeySecretRef is required unless llm.provider is offline")
        return self


class UrlSecretRef(_Model):
    name: str = Field(min_length=1, max_length=253, pattern=_SECRET_NAME)
    key: str = Field(default="url", pattern=_SECRET_KEY)


class Database(_Model):
    url_secret_ref: UrlSecretRef


class Kafka(_Model):
    bootstrap_servers: str = Field(min_length=1, max_length=1024)
    topic: str = Field(default="", max_length=249, pattern=r"^[a-zA-Z0-9._-]*$")
    partitions: int = Field(default=12, ge=1, le=1024)


class SqsCredentialsRef(_Model):
    name: str = Field(min_length=1, max_length=253, pattern=_SECRET_NAME)
    access_key_id_key: str = Field(default="access-key-id", pattern=_SECRET_KEY)
    secret_access_key_key: str = Field(default="secret-access-key", pattern=_SECRET_KEY)


class Sqs(_Model):
    queue_url: str = Field(min_length=1, max_length=1024, pattern=r"^https?://")
    region: str = Field(default="eu-west-1", min_length=1, max_length=32)
    credentials_secret_ref: SqsCredentialsRef | None = None


class AuthSecretRef(_Model):
    name: str = Field(min_length=1, max_length=253, pattern=_SECRET_NAME)
    jwt_secret_key: str = Field(default="jwt-secret", pattern=_SECRET_KEY)
    service_token_key: str = Field(default="service-token", pattern=_SECRET_KEY)
    encryption_keys_key: str = Field(default="encryption-keys", pattern=_SECRET_KEY)


class Auth(_Model):
    secret_ref: AuthSecretRef


class Autoscaling(_Model):
    enabled: bool = False
    min_replicas: int = Field(default=2, ge=1, le=1000)
    max_replicas: int = Field(default=10, ge=1, le=1000)
    target_cpu_utilization_percentage: int = Field(
        default=70, ge=1, le=100, alias="targetCPUUtilizationPercentage"
    )
    # Worker only (the CRD has these on the worker alone; extra="forbid" keeps them there).
    lag_per_replica: int | None = Field(default=None, ge=0, le=1_000_000)
    lag_metric: str | None = Field(default=None, min_length=1, max_length=253)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError("autoscaling.minReplicas must not exceed autoscaling.maxReplicas")
        return self


class EnvVar(_Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=253)
    value: str = Field(default="", max_length=32768)


class Resources(_Model):
    requests: dict[str, str | int] = Field(default_factory=dict)
    limits: dict[str, str | int] = Field(default_factory=dict)


#: Variables the operator fills from Secrets. Extra env may not shadow them: that would let a
#: plain value in the FunnelTenant replace a secret (and leak it into the object).
RESERVED_ENV = frozenset(
    {
        "FUNNEL_AUTH__JWT_SECRET",
        "FUNNEL_AUTH__SERVICE_TOKEN",
        "FUNNEL_AUTH__ENCRYPTION_KEYS",
        "FUNNEL_DATABASE__URL",
        "FUNNEL_LLM__API_KEY",
        "FUNNEL_SQS__ACCESS_KEY_ID",
        "FUNNEL_SQS__SECRET_ACCESS_KEY",
        "FUNNEL_WHATSAPP__CHANNELS",
        "FUNNEL_WHATSAPP__ACCESS_TOKEN",
    }
)
INTERNAL_ENV_PREFIX = "FUNNEL_INTERNAL_"


class ComponentSpec(_Model):
    image: str = Field(default="", max_length=512)
    replicas: int = Field(default=2, ge=0, le=1000)
    resources: Resources = Resources()
    autoscaling: Autoscaling = Autoscaling()
    env: tuple[EnvVar, ...] = Field(default=(), max_length=64)

    @model_validator(mode="after")
    def _no_secret_shadowing(self) -> Self:
        clashes = sorted(
            e.name
            for e in self.env
            if e.name in RESERVED_ENV or e.name.startswith(INTERNAL_ENV_PREFIX)
        )
        if clashes:
            raise ValueError(f"env may not set variables filled from Secrets: {', '.join(clashes)}")
        return self


def _component_default(replicas: int, worker: bool = False) -> Any:
    autoscaling: dict[str, Any] = {}
    if worker:
        autoscaling = {
            "maxReplicas": 12,
            "lagPerReplica": 100,
            "lagMetric": "kafka_consumergroup_lag",
        }
    return {"replicas": replicas, "autoscaling": autoscaling}


class TenantSpec(_Model):
    organisation: Organisation
    paused: bool = False
    whatsapp: WhatsApp
    llm: Llm
    database: Database
    kafka: Kafka
    sqs: Sqs
    auth: Auth
    receiver: ComponentSpec = ComponentSpec(replicas=2)
    bridge: ComponentSpec = ComponentSpec(replicas=1)
    worker: ComponentSpec = ComponentSpec(replicas=2)
    api: ComponentSpec = ComponentSpec(replicas=2)

    @model_validator(mode="before")
    @classmethod
    def _crd_defaults(cls, data: Any) -> Any:
        """Apply the CRD's per-component defaults, which differ between components."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        defaults = {
            "receiver": _component_default(2),
            "bridge": _component_default(1),
            "worker": _component_default(2, worker=True),
            "api": _component_default(2),
        }
        for name, default in defaults.items():
            given = dict(data.get(name) or {})
            given.setdefault("replicas", default["replicas"])
            autoscaling = {**default["autoscaling"], **dict(given.get("autoscaling") or {})}
            given["autoscaling"] = autoscaling
            data[name] = given
        # The CRD defaults llm to {provider: gemini}; a spec without llm at all then needs a key.
        data.setdefault("llm", {})
        return data

    def component(self, component: Component) -> ComponentSpec:
        spec: ComponentSpec = getattr(self, component.value)
        return spec


class Tenant(_Model):
    """The parts of a FunnelTenant object the builders need: identity plus the typed spec."""

    # Children are named ``<name>-<component>`` (up to 9 more characters) and Service names are
    # DNS labels (63): the CRD refuses longer names with a CEL rule, checked here again.
    name: str = Field(min_length=1, max_length=50, pattern=_DNS_LABEL)
    namespace: str
    uid: str
    spec: TenantSpec

    @classmethod
    def from_body(cls, body: Any) -> Tenant:
        """Build from a FunnelTenant object (a dict or kopf's body); raises ``ValidationError``."""
        meta = body["metadata"]
        return cls(
            name=meta["name"],
            namespace=meta["namespace"],
            uid=meta.get("uid", ""),
            spec=TenantSpec.model_validate(dict(body.get("spec") or {})),
        )

    @property
    def topic(self) -> str:
        return self.spec.kafka.topic or f"funnel.inbound.{self.spec.organisation.slug}"
