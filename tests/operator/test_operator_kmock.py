"""The operator under kopf against kmock: the lifecycle a platform team would see with kubectl."""

from __future__ import annotations

from typing import Any

import pytest

from funnel.core.settings import OperatorSettings
from funnel.operator.kube import HttpKubeApi, object_path
from funnel.operator.metrics import RECONCILE_ERRORS
from tests.operator.emulator import (
    FunnelEmulator,
    OperatorThread,
    declare_resources,
    running_operator,
)
from tests.operator.factories import example, secrets_for
from tests.operator.helpers import (
    apply,
    condition,
    eventually,
    get_tenant,
    live_children,
    mark_deployments_ready,
    tenant_path,
    wait_for_watch,
)

pytestmark = [
    pytest.mark.timeout(120),
    # kmock 0.8 loads its bundled resources with a deprecated importlib.resources call.
    pytest.mark.filterwarnings("ignore:read_binary is deprecated:DeprecationWarning"),
]

NS = "funnel-tenants"
#: minimal.yaml: SA, ConfigMap, 4 Deployments, 4 Services, 3 PDBs (the bridge has 1 replica),
#: one NetworkPolicy.
MINIMAL_CHILDREN = 14


def _fresh(name: str = "minimal") -> dict[str, Any]:
    body = example(name)
    del body["metadata"]["uid"]  # the API server assigns it
    return body


async def _create_with_secrets(api: HttpKubeApi, cluster: FunnelEmulator) -> dict[str, Any]:
    body = _fresh()
    for secret in secrets_for(body):
        await apply(api, secret)
    await wait_for_watch(cluster)
    return await apply(api, body)


async def _children_count(cluster: FunnelEmulator, n: int) -> bool:
    return len(live_children(cluster, "acme")) == n


async def _phase(api: HttpKubeApi, phase: str) -> dict[str, Any] | None:
    body = await get_tenant(api, NS, "acme")
    return body if body.get("status", {}).get("phase") == phase else None


def _events(cluster: FunnelEmulator) -> list[dict[str, Any]]:
    return [
        obj.raw
        for (resource, _ns, _name), obj in list(cluster.objects.items())
        if resource.plural == "events" and not obj.deleted
    ]


async def test_create_builds_children_and_reports_ready(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    unexpected_before = RECONCILE_ERRORS.labels(reason="Unexpected")._value.get()
    created = await _create_with_secrets(api, cluster)

    async def all_children() -> bool:
        return await _children_count(cluster, MINIMAL_CHILDREN)

    await eventually(all_children, what="every child")
    children = live_children(cluster, "acme")
    uid = created["metadata"]["uid"]
    for raw in children.values():
        assert raw["metadata"]["ownerReferences"][0]["uid"] == uid
    body = await eventually(lambda: _phase(api, "Progressing"), what="phase Progressing")
    assert condition(body, "SecretsValid")["status"] == "True"  # type: ignore[index]
    assert condition(body, "Ready")["status"] == "False"  # type: ignore[index]
    assert body["status"]["webhookUrl"] == "https://acme.hooks.funnel.example/webhook"

    assert await mark_deployments_ready(api, cluster, "acme") == 4
    body = await eventually(lambda: _phase(api, "Ready"), what="phase Ready")
    ready = condition(body, "Ready")
    assert ready is not None
    assert ready["status"] == "True"
    assert ready["observedGeneration"] == body["metadata"]["generation"]
    assert body["status"]["observedGeneration"] == body["metadata"]["generation"]
    assert body["status"]["ready"] == "4/4"
    assert body["status"]["replicas"] == {"receiver": 2, "bridge": 1, "worker": 2, "api": 2}

    async def transitions_posted() -> bool:
        # kopf posts Events from a queue of its own, shortly after the reconciler emits them.
        reasons = {e.get("reason") for e in _events(cluster)}
        return {"PhaseProgressing", "PhaseReady", "AllComponentsReady"} <= reasons

    await eventually(transitions_posted, what="Events for the transitions")
    event = next(e for e in _events(cluster) if e.get("reason") == "PhaseReady")
    assert event["involvedObject"]["uid"] == uid
    assert event["type"] == "Normal"
    # No pass failed in a way the reconciler did not mean (kopf would retry and hide it).
    assert RECONCILE_ERRORS.labels(reason="Unexpected")._value.get() == unexpected_before


async def test_spec_update_patches_only_what_changed(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    await _create_with_secrets(api, cluster)
    await eventually(lambda: _children_count(cluster, MINIMAL_CHILDREN), what="every child")
    await mark_deployments_ready(api, cluster, "acme")
    await eventually(lambda: _phase(api, "Ready"), what="phase Ready")
    before = live_children(cluster, "acme")

    await api.patch(tenant_path(NS, "acme"), {"spec": {"worker": {"replicas": 5}}})

    async def worker_scaled() -> dict[str, Any] | None:
        worker = live_children(cluster, "acme")[("Deployment", "acme-worker")]
        return worker if worker["spec"]["replicas"] == 5 else None

    await eventually(worker_scaled, what="the worker Deployment at 5 replicas")

    async def observed() -> dict[str, Any] | None:
        body = await get_tenant(api, NS, "acme")
        return body if body["status"].get("observedGeneration") == 2 else None

    body = await observed_body(observed)
    assert body["metadata"]["generation"] == 2
    assert condition(body, "WorkerReady")["observedGeneration"] == 2  # type: ignore[index]
    after = live_children(cluster, "acme")
    untouched = ("Deployment", "acme-receiver")
    assert (
        after[untouched]["metadata"]["resourceVersion"]
        == before[untouched]["metadata"]["resourceVersion"]
    )
    assert set(after) == set(before)


async def observed_body(check: Any) -> dict[str, Any]:
    result: dict[str, Any] = await eventually(check, what="observedGeneration 2")
    return result


async def test_hand_deleted_and_hand_edited_children_are_restored(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    await _create_with_secrets(api, cluster)
    await eventually(lambda: _children_count(cluster, MINIMAL_CHILDREN), what="every child")
    old_uid = live_children(cluster, "acme")[("Deployment", "acme-worker")]["metadata"]["uid"]

    await api.delete(object_path("apps/v1", "Deployment", NS, "acme-worker"))
    await api.patch(
        object_path("v1", "ConfigMap", NS, "acme-config"),
        {"data": {"FUNNEL_KAFKA__INBOUND_TOPIC": "someone.else"}},
    )
    await api.delete(object_path("v1", "Service", NS, "acme-api"))

    async def restored() -> bool:
        children = live_children(cluster, "acme")
        worker = children.get(("Deployment", "acme-worker"))
        config = children.get(("ConfigMap", "acme-config"))
        return bool(
            worker
            and worker["metadata"]["uid"] != old_uid
            and config
            and config["data"]["FUNNEL_KAFKA__INBOUND_TOPIC"] == "funnel.inbound.acme"
            and ("Service", "acme-api") in children
        )

    await eventually(restored, what="the deleted and edited children restored")


async def test_missing_secret_is_reported_then_recovered(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    body = _fresh()
    secrets = secrets_for(body)
    database = next(s for s in secrets if s["metadata"]["name"] == "acme-database")
    for secret in secrets:
        if secret is not database:
            await apply(api, secret)
    await wait_for_watch(cluster)
    await apply(api, body)

    async def secrets_invalid() -> dict[str, Any] | None:
        tenant = await get_tenant(api, NS, "acme")
        valid = condition(tenant, "SecretsValid")
        return tenant if valid and valid["status"] == "False" else None

    tenant = await eventually(secrets_invalid, what="SecretsValid=False")
    valid = condition(tenant, "SecretsValid")
    assert valid is not None
    assert valid["reason"] == "SecretsMissing"
    assert "acme-database" in valid["message"]
    assert tenant["status"]["phase"] == "Pending"
    # No Deployment whose pods could only crash on a missing Secret.
    assert not [k for k in live_children(cluster, "acme") if k[0] == "Deployment"]

    await apply(api, database)

    async def secrets_valid() -> bool:
        tenant = await get_tenant(api, NS, "acme")
        valid = condition(tenant, "SecretsValid")
        return bool(valid and valid["status"] == "True")

    await eventually(secrets_valid, what="SecretsValid=True after the Secret appeared")
    await eventually(lambda: _children_count(cluster, MINIMAL_CHILDREN), what="every child")


async def test_invalid_spec_is_a_permanent_error_in_the_status(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    body = _fresh()
    # kmock evaluates no CEL, like an API server predating the rule: the operator must refuse.
    body["spec"]["worker"] = {"autoscaling": {"enabled": True, "minReplicas": 9, "maxReplicas": 3}}
    for secret in secrets_for(body):
        await apply(api, secret)
    await wait_for_watch(cluster)
    await apply(api, body)

    body = await eventually(lambda: _phase(api, "Failed"), what="phase Failed")
    ready = condition(body, "Ready")
    assert ready is not None
    assert ready["reason"] == "InvalidSpec"
    assert "minReplicas" in ready["message"]
    assert live_children(cluster, "acme") == {}
    assert operator.error is None

    # Fixing the spec recovers without restarting anything.
    await api.patch(
        tenant_path(NS, "acme"),
        {"spec": {"worker": {"autoscaling": {"minReplicas": 2, "maxReplicas": 3}}}},
    )
    await eventually(lambda: _phase(api, "Progressing"), what="recovery after the fix")


async def test_delete_removes_the_tenant_and_its_children(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    await _create_with_secrets(api, cluster)
    await eventually(lambda: _children_count(cluster, MINIMAL_CHILDREN), what="every child")

    await api.delete(tenant_path(NS, "acme"))

    async def gone() -> bool:
        return await api.get(tenant_path(NS, "acme")) is None

    await eventually(gone, what="the tenant deleted (finalizer released)")
    await eventually(lambda: _children_count(cluster, 0), what="children collected")


async def test_restart_resumes_without_duplicates(
    cluster: FunnelEmulator, api: HttpKubeApi, operator_settings: OperatorSettings
) -> None:
    async with running_operator(operator_settings):
        await _create_with_secrets(api, cluster)
        await eventually(lambda: _children_count(cluster, MINIMAL_CHILDREN), what="every child")
    first = live_children(cluster, "acme")
    calls_before = len(cluster.calls)

    async with running_operator(operator_settings):

        async def resumed() -> bool:
            tail = cluster.calls[calls_before:]
            # The resume pass reads every child; the last one it reads is the NetworkPolicy.
            return any(m == "GET" and p.endswith("/networkpolicies/acme") for m, p in tail)

        await eventually(resumed, what="the resume pass")
        second = live_children(cluster, "acme")

    assert set(second) == set(first)
    assert {k: v["metadata"]["uid"] for k, v in second.items()} == {
        k: v["metadata"]["uid"] for k, v in first.items()
    }
    posts = [p for m, p in cluster.calls[calls_before:] if m == "POST" and "/events" not in p]
    assert posts == []


async def test_service_monitor_only_when_the_prometheus_operator_is_installed(
    cluster: FunnelEmulator, api: HttpKubeApi, operator: OperatorThread
) -> None:
    # The monitoring.coreos.com group appears before the first pass (discovery is cached).
    declare_resources(cluster, monitoring=True)
    await _create_with_secrets(api, cluster)
    await eventually(
        lambda: _children_count(cluster, MINIMAL_CHILDREN + 1), what="children and a ServiceMonitor"
    )
    monitor = live_children(cluster, "acme")[("ServiceMonitor", "acme")]
    assert monitor["spec"]["selector"] == {"matchLabels": {"funnel.dev/tenant": "acme"}}
