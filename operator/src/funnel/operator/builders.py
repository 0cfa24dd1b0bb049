"""Pure manifest builders: a typed FunnelTenant in, Kubernetes objects (plain dicts) out.

Nothing here talks to a cluster or reads settings, so every child can be checked in a unit test
and by ``kubernetes-validate``. What the builders cannot know (the image defaults, the hash of
the referenced Secrets' contents, whether the Prometheus operator is installed) comes in through
:class:`BuildContext`.

Secrets never pass through here as values: pods receive them with ``secretKeyRef``. The
receiver's channel list (``FUNNEL_WHATSAPP__CHANNELS``, JSON that embeds the app secrets and the
verify token) is assembled by the kubelet through dependent environment variables
(``$(VAR)`` expansion of variables defined earlier in the same container), so the JSON with the
secrets in it exists only inside the pod.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from funnel.operator.spec import API_VERSION, KIND, Component, ComponentSpec, Tenant

Manifest = dict[str, Any]

LABEL_TENANT = "funnel.dev/tenant"
LABEL_ORGANISATION = "funnel.dev/organisation"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "funnel-operator"
ANNOTATION_SECRETS_HASH = "funnel.dev/secrets-hash"
ANNOTATION_CONFIG_HASH = "funnel.dev/config-hash"

METRICS_PORT = 9464
RUN_AS = 10001

#: (command, image name, HTTP port or None) per component.
_PROCESS: dict[Component, tuple[list[str], str, int | None]] = {
    Component.RECEIVER: (["receiver", "serve"], "funnel-receiver", 8080),
    Component.BRIDGE: (["receiver", "bridge"], "funnel-receiver", None),
    Component.WORKER: (["pipeline", "worker"], "funnel-pipeline", None),
    Component.API: (["api", "serve"], "funnel-api", 8000),
}

#: Requests a component gets when its spec sets none: a scheduler with no requests packs pods
#: blindly and an HPA on CPU utilisation has nothing to divide by.
_DEFAULT_RESOURCES: dict[Component, dict[str, dict[str, str]]] = {
    Component.RECEIVER: {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    },
    Component.BRIDGE: {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    },
    Component.WORKER: {
        "requests": {"cpu": "250m", "memory": "384Mi"},
        "limits": {"memory": "768Mi"},
    },
    Component.API: {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
}


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What the builders need beyond the tenant itself."""

    image_registry: str = "ghcr.io/funnel"
    image_tag: str = "0.1.0"
    #: Digest of the referenced Secrets' data; a change rolls every pod of the tenant.
    secrets_hash: str = ""
    #: Whether the monitoring.coreos.com ServiceMonitor kind exists in the cluster.
    service_monitor: bool = False
    webhook_url_template: str = "https://{slug}.hooks.funnel.example/webhook"


# ------------------------------------------------------------------------------------- naming


def child_name(tenant: Tenant, component: Component) -> str:
    return f"{tenant.name}-{component.value}"


def config_map_name(tenant: Tenant) -> str:
    return f"{tenant.name}-config"


def consumer_group(tenant: Tenant) -> str:
    return f"funnel-workers-{tenant.spec.organisation.slug}"


def labels(tenant: Tenant, component: Component | None = None) -> dict[str, str]:
    """Common labels of every child: the recommended app.kubernetes.io set plus the tenant's."""
    result = {
        "app.kubernetes.io/name": "funnel",
        "app.kubernetes.io/instance": tenant.name,
        "app.kubernetes.io/part-of": "funnel",
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_TENANT: tenant.name,
        LABEL_ORGANISATION: tenant.spec.organisation.slug,
    }
    if component is not None:
        result[LABEL_COMPONENT] = component.value
    return result


def selector(tenant: Tenant, component: Component) -> dict[str, str]:
    # Deployment selectors are immutable: only labels that can never change for this child.
    return {LABEL_TENANT: tenant.name, LABEL_COMPONENT: component.value}


def selector_string(tenant: Tenant, component: Component) -> str:
    return ",".join(f"{k}={v}" for k, v in selector(tenant, component).items())


def owner_reference(tenant: Tenant) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": tenant.name,
        "uid": tenant.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(tenant: Tenant, name: str, component: Component | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": tenant.namespace,
        "labels": labels(tenant, component),
        "ownerReferences": [owner_reference(tenant)],
    }


def webhook_url(tenant: Tenant, ctx: BuildContext) -> str:
    return ctx.webhook_url_template.format(
        slug=tenant.spec.organisation.slug, namespace=tenant.namespace, name=tenant.name
    )


def digest(data: Any) -> str:
    """A short stable digest of JSON-able data (annotation values that roll pods)."""
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


# ------------------------------------------------------------------------- namespace-wide ones


def build_service_account(tenant: Tenant) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(tenant, tenant.name),
        # The processes never call the Kubernetes API; a mounted token is only attack surface.
        "automountServiceAccountToken": False,
    }


def config_data(tenant: Tenant) -> dict[str, str]:
    """The tenant's non-secret settings, as the ``FUNNEL_*`` variables settings.py reads."""
    spec = tenant.spec
    data = {
        "FUNNEL_ENVIRONMENT": "production",
        "FUNNEL_KAFKA__BOOTSTRAP_SERVERS": spec.kafka.bootstrap_servers,
        "FUNNEL_KAFKA__INBOUND_TOPIC": tenant.topic,
        "FUNNEL_KAFKA__DEAD_LETTER_TOPIC": f"{tenant.topic}.dlq",
        "FUNNEL_KAFKA__PARTITIONS": str(spec.kafka.partitions),
        "FUNNEL_KAFKA__CONSUMER_GROUP": consumer_group(tenant),
        # Production Kafka speaks InitProducerId v>0; only the local Tansu broker cannot.
        "FUNNEL_KAFKA__ENABLE_IDEMPOTENCE": "true",
        "FUNNEL_SQS__QUEUE_URL": spec.sqs.queue_url,
        "FUNNEL_SQS__REGION": spec.sqs.region,
        "FUNNEL_LLM__PROVIDER": spec.llm.provider,
        "FUNNEL_OBSERVABILITY__LOG_FORMAT": "json",
        "FUNNEL_OBSERVABILITY__METRICS_PORT": str(METRICS_PORT),
    }
    models = spec.llm.models
    for stage, model in (
        ("EYES", models.eyes),
        ("BRAIN", models.brain),
        ("MOUTH", models.mouth),
        ("MEMORY", models.memory),
    ):
        if model:
            data[f"FUNNEL_LLM__{stage}_MODEL"] = model
    return data


def build_config_map(tenant: Tenant) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(tenant, config_map_name(tenant)),
        "data": config_data(tenant),
    }


# --------------------------------------------------------------------------------- deployments


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _auth_env(tenant: Tenant) -> list[dict[str, Any]]:
    ref = tenant.spec.auth.secret_ref
    # Settings refuses to start in production without these, in every process.
    return [
        _secret_env("FUNNEL_AUTH__JWT_SECRET", ref.name, ref.jwt_secret_key),
        _secret_env("FUNNEL_AUTH__SERVICE_TOKEN", ref.name, ref.service_token_key),
        _secret_env("FUNNEL_AUTH__ENCRYPTION_KEYS", ref.name, ref.encryption_keys_key),
    ]


def _channels_env(tenant: Tenant) -> list[dict[str, Any]]:
    """The receiver's channel list with the secrets spliced in by the kubelet (``$(VAR)``)."""
    wa = tenant.spec.whatsapp
    ref = wa.secret_ref
    env = [
        _secret_env(f"FUNNEL_INTERNAL_APP_SECRET_{i}", ref.name, key)
        for i, key in enumerate(ref.app_secret_keys)
    ]
    env.append(_secret_env("FUNNEL_INTERNAL_VERIFY_TOKEN", ref.name, ref.verify_token_key))
    channel = {
        "phone_number_id": wa.phone_number_id,
        "app_secrets": [
            f"$(FUNNEL_INTERNAL_APP_SECRET_{i})" for i in range(len(ref.app_secret_keys))
        ],
        "verify_token": "$(FUNNEL_INTERNAL_VERIFY_TOKEN)",
        "organisation_id": tenant.spec.organisation.id,
    }
    env.append({"name": "FUNNEL_WHATSAPP__CHANNELS", "value": json.dumps([channel])})
    return env


def _sqs_env(tenant: Tenant) -> list[dict[str, Any]]:
    ref = tenant.spec.sqs.credentials_secret_ref
    if ref is None:
        return []  # workload identity (IRSA and friends) supplies the credentials
    return [
        _secret_env("FUNNEL_SQS__ACCESS_KEY_ID", ref.name, ref.access_key_id_key),
        _secret_env("FUNNEL_SQS__SECRET_ACCESS_KEY", ref.name, ref.secret_access_key_key),
    ]


def _database_env(tenant: Tenant) -> list[dict[str, Any]]:
    ref = tenant.spec.database.url_secret_ref
    return [_secret_env("FUNNEL_DATABASE__URL", ref.name, ref.key)]


def _llm_env(tenant: Tenant) -> list[dict[str, Any]]:
    ref = tenant.spec.llm.api_key_secret_ref
    return [] if ref is None else [_secret_env("FUNNEL_LLM__API_KEY", ref.name, ref.key)]


def component_env(tenant: Tenant, component: Component) -> list[dict[str, Any]]:
    """Each process gets the secrets it uses and no others (least privilege inside the pod)."""
    env: list[dict[str, Any]] = [
        {"name": "FUNNEL_OBSERVABILITY__SERVICE_NAME", "value": f"funnel-{component.value}"}
    ]
    env += _auth_env(tenant)
    if component is Component.RECEIVER:
        env += _channels_env(tenant) + _sqs_env(tenant)
    elif component is Component.BRIDGE:
        # The bridge routes each event to its organisation by phone number id: it needs the
        # channel list, and SQS to drain.
        env += _channels_env(tenant) + _sqs_env(tenant)
    elif component is Component.WORKER:
        ref = tenant.spec.whatsapp.secret_ref
        env += _database_env(tenant) + _llm_env(tenant)
        env.append(_secret_env("FUNNEL_WHATSAPP__ACCESS_TOKEN", ref.name, ref.access_token_key))
    else:
        env += _database_env(tenant) + _llm_env(tenant)
    # User-supplied variables come last so they can override a default, never a secret's source
    # (a name clash with a secret variable is refused when the spec is read).
    env += [{"name": e.name, "value": e.value} for e in tenant.spec.component(component).env]
    return env


def _resources(component: Component, spec: ComponentSpec) -> dict[str, Any]:
    defaults = _DEFAULT_RESOURCES[component]
    return {
        "requests": dict(spec.resources.requests) or dict(defaults["requests"]),
        "limits": dict(spec.resources.limits) or dict(defaults["limits"]),
    }


def image(tenant: Tenant, component: Component, ctx: BuildContext) -> str:
    given = tenant.spec.component(component).image
    if given:
        return given
    name = _PROCESS[component][1]
    # No registry: the images a local cluster loaded by name (skaffold dev, kind load).
    repository = f"{ctx.image_registry}/{name}" if ctx.image_registry else name
    return f"{repository}:{ctx.image_tag}"


def _probes(component: Component) -> dict[str, Any]:
    _, _, http_port = _PROCESS[component]
    if http_port is not None:
        return {
            "livenessProbe": {
                "httpGet": {"path": "/healthz", "port": "http"},
                "periodSeconds": 10,
                "failureThreshold": 3,
            },
            "readinessProbe": {
                "httpGet": {"path": "/readyz", "port": "http"},
                "periodSeconds": 5,
                "failureThreshold": 2,
            },
        }
    # The bridge and the worker serve no HTTP of their own; their metrics endpoint answering is
    # the sign the process is alive and its event loop is not wedged.
    probe = {"httpGet": {"path": "/metrics", "port": "metrics"}, "periodSeconds": 10}
    return {"livenessProbe": {**probe, "failureThreshold": 6}, "readinessProbe": dict(probe)}


def _ports(component: Component) -> list[dict[str, Any]]:
    _, _, http_port = _PROCESS[component]
    if http_port is not None:
        return [{"name": "http", "containerPort": http_port, "protocol": "TCP"}]
    return [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]


def replicas_managed_by_hpa(spec: ComponentSpec) -> bool:
    return spec.autoscaling.enabled


def build_deployment(tenant: Tenant, component: Component, ctx: BuildContext) -> Manifest:
    spec = tenant.spec.component(component)
    command, _, _ = _PROCESS[component]
    pod_labels = labels(tenant, component)
    container: dict[str, Any] = {
        "name": component.value,
        "image": image(tenant, component, ctx),
        "imagePullPolicy": "IfNotPresent",
        "args": command,
        "envFrom": [{"configMapRef": {"name": config_map_name(tenant)}}],
        "env": component_env(tenant, component),
        "ports": _ports(component),
        "resources": _resources(component, spec),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # Python and its libraries want a writable temp dir; the root filesystem stays read-only.
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir
        **_probes(component),
    }
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": selector(tenant, component)},
        "revisionHistoryLimit": 3,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
        },
        "template": {
            "metadata": {
                "labels": pod_labels,
                "annotations": {
                    ANNOTATION_SECRETS_HASH: ctx.secrets_hash,
                    ANNOTATION_CONFIG_HASH: digest(config_data(tenant)),
                },
            },
            "spec": {
                "serviceAccountName": tenant.name,
                "automountServiceAccountToken": False,
                # The worker finishes in-flight turns and commits offsets on SIGTERM.
                "terminationGracePeriodSeconds": 60 if component is Component.WORKER else 30,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": RUN_AS,
                    "runAsGroup": RUN_AS,
                    "fsGroup": RUN_AS,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": selector(tenant, component)},
                    }
                ],
            },
        },
    }
    # With an HPA the autoscaler owns the replica count; writing it here would fight it on every
    # reconcile. The starting size then comes from the HPA's minimum.
    if not replicas_managed_by_hpa(spec):
        deployment_spec["replicas"] = spec.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(tenant, child_name(tenant, component), component),
        "spec": deployment_spec,
    }


def build_receiver_deployment(tenant: Tenant, ctx: BuildContext | None = None) -> Manifest:
    return build_deployment(tenant, Component.RECEIVER, ctx or BuildContext())


def build_bridge_deployment(tenant: Tenant, ctx: BuildContext | None = None) -> Manifest:
    return build_deployment(tenant, Component.BRIDGE, ctx or BuildContext())


def build_worker_deployment(tenant: Tenant, ctx: BuildContext | None = None) -> Manifest:
    return build_deployment(tenant, Component.WORKER, ctx or BuildContext())


def build_api_deployment(tenant: Tenant, ctx: BuildContext | None = None) -> Manifest:
    return build_deployment(tenant, Component.API, ctx or BuildContext())


# ------------------------------------------------------------------------ services and scaling


def build_service(tenant: Tenant, component: Component) -> Manifest:
    port = _ports(component)[0]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(tenant, child_name(tenant, component), component),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(tenant, component),
            "ports": [
                {
                    "name": port["name"],
                    "port": port["containerPort"],
                    "targetPort": port["name"],
                    "protocol": "TCP",
                }
            ],
        },
    }


def hpa_bounds(tenant: Tenant, component: Component) -> tuple[int, int]:
    """(min, max) replicas; the worker's max is capped by the partition count, since a consumer
    group member beyond the partition count gets no partition and does nothing."""
    scaling = tenant.spec.component(component).autoscaling
    maximum = scaling.max_replicas
    if component is Component.WORKER:
        maximum = min(maximum, tenant.spec.kafka.partitions)
    return min(scaling.min_replicas, maximum), maximum


def build_hpa(tenant: Tenant, component: Component) -> Manifest | None:
    scaling = tenant.spec.component(component).autoscaling
    if not scaling.enabled:
        return None
    minimum, maximum = hpa_bounds(tenant, component)
    metrics: list[dict[str, Any]] = [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {
                    "type": "Utilization",
                    "averageUtilization": scaling.target_cpu_utilization_percentage,
                },
            },
        }
    ]
    if component is Component.WORKER and scaling.lag_per_replica and scaling.lag_metric:
        # The worker is I/O bound (seconds of LLM latency per turn): CPU stays low while the
        # backlog grows, so the consumer lag is the signal that matters. AverageValue divides the
        # group's lag by the current replica count.
        metrics.append(
            {
                "type": "External",
                "external": {
                    "metric": {
                        "name": scaling.lag_metric,
                        "selector": {
                            "matchLabels": {
                                "consumergroup": consumer_group(tenant),
                                "topic": tenant.topic,
                            }
                        },
                    },
                    "target": {
                        "type": "AverageValue",
                        "averageValue": str(scaling.lag_per_replica),
                    },
                },
            }
        )
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(tenant, child_name(tenant, component), component),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": child_name(tenant, component),
            },
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": metrics,
            # Scale up at once, down slowly: a burst of messages comes back in waves.
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
                }
            },
        },
    }


def effective_min_replicas(tenant: Tenant, component: Component) -> int:
    spec = tenant.spec.component(component)
    return hpa_bounds(tenant, component)[0] if spec.autoscaling.enabled else spec.replicas


def build_pdb(tenant: Tenant, component: Component) -> Manifest | None:
    # With a single replica a PDB would block node drains forever; only protect redundancy.
    if effective_min_replicas(tenant, component) < 2:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(tenant, child_name(tenant, component), component),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector(tenant, component)},
        },
    }


def build_network_policy(tenant: Tenant) -> Manifest:
    http_ports = [
        {"protocol": "TCP", "port": port}
        for component, (_, _, port) in _PROCESS.items()
        if port is not None and component in (Component.RECEIVER, Component.API)
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(tenant, tenant.name),
        "spec": {
            "podSelector": {"matchLabels": {LABEL_TENANT: tenant.name}},
            "policyTypes": ["Ingress"],
            "ingress": [
                # Meta's webhooks and the dashboard arrive through the ingress controller, which
                # may live in any namespace: the HTTP ports are open, nothing else is.
                {"ports": http_ports},
                # Metrics only from inside the cluster (Prometheus), never from outside it.
                {
                    "from": [{"namespaceSelector": {}}],
                    "ports": [{"protocol": "TCP", "port": METRICS_PORT}],
                },
            ],
            # Egress stays open: Kafka, SQS, PostgreSQL, Meta and the LLM provider are addresses
            # each platform chooses; a platform that pins them adds its own egress policy.
        },
    }


def build_service_monitor(tenant: Tenant) -> Manifest:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _metadata(tenant, tenant.name),
        "spec": {
            "selector": {"matchLabels": {LABEL_TENANT: tenant.name}},
            "namespaceSelector": {"matchNames": [tenant.namespace]},
            # Carried onto every series as funnel_dev_tenant / funnel_dev_organisation: the
            # dashboards' tenant variable and the alerts' labels.
            "targetLabels": [LABEL_TENANT, LABEL_ORGANISATION],
            # A Service without the named port is skipped, so one list covers all four.
            "endpoints": [
                {"port": "http", "path": "/metrics", "interval": "30s"},
                {"port": "metrics", "path": "/metrics", "interval": "30s"},
            ],
        },
    }


# ------------------------------------------------------------------------------------ the set


def desired_children(tenant: Tenant, ctx: BuildContext) -> list[Manifest]:
    """Every child the tenant should have now, in the order they are applied."""
    children: list[Manifest] = [build_service_account(tenant), build_config_map(tenant)]
    for component in Component:
        children.append(build_deployment(tenant, component, ctx))
        children.append(build_service(tenant, component))
        for optional in (build_hpa(tenant, component), build_pdb(tenant, component)):
            if optional is not None:
                children.append(optional)
    children.append(build_network_policy(tenant))
    if ctx.service_monitor:
        children.append(build_service_monitor(tenant))
    return children


def possible_optional_children(tenant: Tenant) -> list[tuple[str, str, str]]:
    """(apiVersion, kind, name) of every child that exists only for some specs.

    Children of these kinds that the current spec does not want are deleted; the set is known in
    advance from the naming scheme, so no list call (and no label-selector support) is needed.
    """
    result: list[tuple[str, str, str]] = []
    for component in Component:
        name = child_name(tenant, component)
        result.append(("autoscaling/v2", "HorizontalPodAutoscaler", name))
        result.append(("policy/v1", "PodDisruptionBudget", name))
    result.append(("monitoring.coreos.com/v1", "ServiceMonitor", tenant.name))
    return result
