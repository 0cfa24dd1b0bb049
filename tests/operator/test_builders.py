"""The pure manifest builders: every child for a minimal and a full spec, no cluster needed."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pydantic
import pytest

from funnel.operator import builders
from funnel.operator.builders import BuildContext, desired_children
from funnel.operator.spec import API_VERSION, KIND, RESERVED_ENV, Component, Tenant
from tests.k8s.schemas import validate_k8s
from tests.operator.factories import example, tenant

CTX = BuildContext(secrets_hash="abc123", service_monitor=True)


def _by_kind(children: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for child in children:
        result.setdefault(child["kind"], []).append(child)
    return result


def _deployment(children: list[dict[str, Any]], component: Component) -> dict[str, Any]:
    return next(
        c
        for c in children
        if c["kind"] == "Deployment" and c["metadata"]["name"].endswith(f"-{component.value}")
    )


def test_minimal_spec_children() -> None:
    t = tenant("minimal")
    children = desired_children(t, BuildContext())
    kinds = Counter(c["kind"] for c in children)
    # bridge defaults to one replica: no PDB for it; no autoscaling asked for: no HPA; no
    # Prometheus operator: no ServiceMonitor.
    assert kinds == {
        "ServiceAccount": 1,
        "ConfigMap": 1,
        "Deployment": 4,
        "Service": 4,
        "PodDisruptionBudget": 3,
        "NetworkPolicy": 1,
    }
    pdbs = {c["metadata"]["name"] for c in _by_kind(children)["PodDisruptionBudget"]}
    assert pdbs == {"acme-receiver", "acme-worker", "acme-api"}
    assert _deployment(children, Component.BRIDGE)["spec"]["replicas"] == 1
    assert _deployment(children, Component.WORKER)["spec"]["replicas"] == 2


def test_full_spec_children() -> None:
    t = tenant("full")
    children = desired_children(t, CTX)
    by_kind = _by_kind(children)
    hpas = {c["metadata"]["name"]: c for c in by_kind["HorizontalPodAutoscaler"]}
    assert set(hpas) == {"globex-receiver", "globex-worker", "globex-api"}
    worker_hpa = hpas["globex-worker"]["spec"]
    # 48 asked for, 24 partitions: members beyond the partition count would idle.
    assert (worker_hpa["minReplicas"], worker_hpa["maxReplicas"]) == (4, 24)
    external = next(m for m in worker_hpa["metrics"] if m["type"] == "External")["external"]
    assert external["target"] == {"type": "AverageValue", "averageValue": "200"}
    assert external["metric"]["selector"]["matchLabels"] == {
        "consumergroup": "funnel-workers-globex",
        "topic": "funnel.inbound.globex",
    }
    cpu = next(m for m in worker_hpa["metrics"] if m["type"] == "Resource")["resource"]
    assert cpu["target"]["averageUtilization"] == 75
    # The autoscaler owns replicas where it exists; the bridge keeps its fixed count.
    assert "replicas" not in _deployment(children, Component.WORKER)["spec"]
    assert _deployment(children, Component.BRIDGE)["spec"]["replicas"] == 2
    assert len(by_kind["PodDisruptionBudget"]) == 4
    (monitor,) = by_kind["ServiceMonitor"]
    assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"http", "metrics"}
    worker = _deployment(children, Component.WORKER)["spec"]["template"]["spec"]["containers"][0]
    assert worker["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"memory": "1Gi"},
    }
    assert {"name": "FUNNEL_KAFKA__MAX_IN_FLIGHT", "value": "800"} in worker["env"]


@pytest.mark.parametrize("name", ["minimal", "full"])
def test_every_child_is_owned_labelled_and_namespaced(name: str) -> None:
    t = tenant(name)
    for child in desired_children(t, CTX):
        meta = child["metadata"]
        assert meta["namespace"] == t.namespace
        assert meta["ownerReferences"] == [
            {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "name": t.name,
                "uid": t.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert meta["labels"]["funnel.dev/tenant"] == t.name
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "funnel-operator"
        assert meta["labels"]["funnel.dev/organisation"] == t.spec.organisation.slug
        assert len(meta["name"]) <= 63


@pytest.mark.parametrize("name", ["minimal", "full"])
def test_every_child_passes_kubernetes_validate_strict(name: str) -> None:
    for child in desired_children(tenant(name), CTX):
        checked = validate_k8s(child)
        assert checked or child["kind"] == "ServiceMonitor", child["kind"]


@pytest.mark.parametrize("component", list(Component))
def test_pods_are_locked_down(component: Component) -> None:
    deployment = builders.build_deployment(tenant("full"), component, CTX)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]
    assert container["readinessProbe"]
    assert container["resources"]["requests"]


def test_commands_images_and_ports() -> None:
    t = tenant("minimal")
    expected = {
        Component.RECEIVER: (["receiver", "serve"], "funnel-receiver", ("http", 8080)),
        Component.BRIDGE: (["receiver", "bridge"], "funnel-receiver", ("metrics", 9464)),
        Component.WORKER: (["pipeline", "worker"], "funnel-pipeline", ("metrics", 9464)),
        Component.API: (["api", "serve"], "funnel-api", ("http", 8000)),
    }
    ctx = BuildContext(image_registry="registry.example/funnel", image_tag="1.2.3")
    for component, (args, image, port) in expected.items():
        (container,) = builders.build_deployment(t, component, ctx)["spec"]["template"]["spec"][
            "containers"
        ]
        assert container["args"] == args
        assert container["image"] == f"registry.example/funnel/{image}:1.2.3"
        assert (container["ports"][0]["name"], container["ports"][0]["containerPort"]) == port
        service = builders.build_service(t, component)
        assert service["spec"]["ports"][0]["port"] == port[1]
        assert service["spec"]["selector"] == builders.selector(t, component)


@pytest.mark.parametrize("name", ["minimal", "full"])
def test_secrets_reach_pods_only_through_secret_refs(name: str) -> None:
    t = tenant(name)
    children = desired_children(t, CTX)
    (config,) = _by_kind(children)["ConfigMap"]
    assert not set(config["data"]) & RESERVED_ENV
    for component in Component:
        (container,) = _deployment(children, component)["spec"]["template"]["spec"]["containers"]
        env = container["env"]
        defined: list[str] = []
        for var in env:
            if var["name"] in RESERVED_ENV - {"FUNNEL_WHATSAPP__CHANNELS"}:
                assert "secretKeyRef" in var["valueFrom"], var
            if var["name"] == "FUNNEL_WHATSAPP__CHANNELS":
                # The kubelet expands $(VAR) only for variables defined earlier in the list.
                (channel,) = json.loads(var["value"])
                refs = [*channel["app_secrets"], channel["verify_token"]]
                assert all(r.startswith("$(") and r[2:-1] in defined for r in refs)
                assert channel["phone_number_id"] == t.spec.whatsapp.phone_number_id
                assert channel["organisation_id"] == t.spec.organisation.id
            defined.append(var["name"])
    receiver = _deployment(children, Component.RECEIVER)["spec"]["template"]["spec"]["containers"][
        0
    ]
    names = {v["name"] for v in receiver["env"]}
    # Least privilege: the receiver never sees the database URL or the LLM key.
    assert "FUNNEL_DATABASE__URL" not in names
    assert "FUNNEL_LLM__API_KEY" not in names


def test_full_spec_app_secret_rotation_passes_both_secrets() -> None:
    t = tenant("full")
    env = _deployment(desired_children(t, CTX), Component.RECEIVER)["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    channels = json.loads(next(v["value"] for v in env if v["name"] == "FUNNEL_WHATSAPP__CHANNELS"))
    assert len(channels[0]["app_secrets"]) == 2


def test_config_map_carries_the_tenant_settings() -> None:
    t = tenant("full")
    data = builders.build_config_map(t)["data"]
    assert data["FUNNEL_ENVIRONMENT"] == "production"
    assert data["FUNNEL_KAFKA__INBOUND_TOPIC"] == "funnel.inbound.globex"
    assert data["FUNNEL_KAFKA__PARTITIONS"] == "24"
    assert data["FUNNEL_LLM__BRAIN_MODEL"] == "gemini-2.5-pro"
    assert data["FUNNEL_SQS__QUEUE_URL"].endswith("/funnel-globex")
    minimal = builders.build_config_map(tenant("minimal"))["data"]
    assert minimal["FUNNEL_KAFKA__INBOUND_TOPIC"] == "funnel.inbound.acme"
    assert minimal["FUNNEL_LLM__PROVIDER"] == "offline"


def test_secret_and_config_changes_roll_the_pods() -> None:
    t = tenant("minimal")
    template = builders.build_deployment(t, Component.WORKER, CTX)["spec"]["template"]
    rotated = builders.build_deployment(
        t, Component.WORKER, BuildContext(secrets_hash="def456", service_monitor=True)
    )["spec"]["template"]
    assert template["metadata"]["annotations"][builders.ANNOTATION_SECRETS_HASH] == "abc123"
    assert rotated["metadata"]["annotations"][builders.ANNOTATION_SECRETS_HASH] == "def456"
    body = example("minimal")
    body["spec"]["kafka"]["partitions"] = 48
    changed = builders.build_deployment(Tenant.from_body(body), Component.WORKER, CTX)["spec"][
        "template"
    ]
    assert (
        changed["metadata"]["annotations"][builders.ANNOTATION_CONFIG_HASH]
        != template["metadata"]["annotations"][builders.ANNOTATION_CONFIG_HASH]
    )


def test_network_policy_opens_only_http_and_metrics_ports() -> None:
    policy = builders.build_network_policy(tenant("minimal"))["spec"]
    assert policy["podSelector"] == {"matchLabels": {"funnel.dev/tenant": "acme"}}
    ports = sorted(p["port"] for rule in policy["ingress"] for p in rule["ports"])
    assert ports == [8000, 8080, 9464]
    metrics_rule = next(r for r in policy["ingress"] if r["ports"][0]["port"] == 9464)
    assert metrics_rule["from"] == [{"namespaceSelector": {}}]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda s: s["worker"].update(env=[{"name": "FUNNEL_DATABASE__URL", "value": "x"}]),
            "Secrets",
        ),
        (
            lambda s: s["api"].update(autoscaling={"minReplicas": 5, "maxReplicas": 2}),
            "minReplicas",
        ),
        (lambda s: s.update(llm={"provider": "gemini"}), "apiKeySecretRef"),
        (lambda s: s["organisation"].update(slug="UPPER"), "slug"),
        (lambda s: s.update(surprise=1), "surprise"),
    ],
)
def test_invalid_specs_are_refused(mutate: Any, message: str) -> None:
    body = example("minimal")
    body["spec"].setdefault("worker", {})
    body["spec"].setdefault("api", {})
    mutate(body["spec"])
    with pytest.raises(pydantic.ValidationError, match=message):
        Tenant.from_body(body)


def test_long_tenant_names_are_refused() -> None:
    body = example("minimal")
    body["metadata"]["name"] = "a" * 51
    with pytest.raises(pydantic.ValidationError):
        Tenant.from_body(body)


def test_zero_replicas_gets_no_pdb_and_autoscaled_min_decides() -> None:
    body = example("minimal")
    body["spec"]["api"] = {
        "replicas": 5,
        "autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 3},
    }
    t = Tenant.from_body(body)
    assert builders.build_pdb(t, Component.API) is None
    body["spec"]["worker"] = {"replicas": 0}
    assert builders.build_pdb(Tenant.from_body(body), Component.WORKER) is None
