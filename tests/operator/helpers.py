"""Acting on the emulated cluster the way kubectl and the controllers would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from funnel.operator.kube import HttpKubeApi, object_path
from funnel.operator.spec import API_VERSION, KIND
from tests.operator.emulator import FunnelEmulator

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, within: float = 20.0, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_for_watch(cluster: FunnelEmulator, plural: str = "funneltenants") -> None:
    """Objects created before kopf watches would only be seen through its initial list."""

    async def watching() -> bool:
        return any(m == "GET" and plural in p and "watch=" in p for m, p in cluster.calls)

    await eventually(watching, what=f"a watch on {plural}")


def live_children(cluster: FunnelEmulator, tenant: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) → object for every live object labelled as the tenant's child."""
    result = {}
    for (_resource, _namespace, name), obj in list(cluster.objects.items()):
        if obj.deleted:
            continue
        raw = obj.raw
        if raw.get("metadata", {}).get("labels", {}).get("funnel.dev/tenant") == tenant:
            result[(raw.get("kind", ""), name)] = raw
    return result


async def apply(api: HttpKubeApi, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return await api.create(object_path(obj["apiVersion"], obj["kind"], meta["namespace"]), obj)


def tenant_path(namespace: str, name: str) -> str:
    return object_path(API_VERSION, KIND, namespace, name)


async def get_tenant(api: HttpKubeApi, namespace: str, name: str) -> dict[str, Any]:
    body = await api.get(tenant_path(namespace, name))
    assert body is not None
    return body


def condition(body: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next(
        (c for c in body.get("status", {}).get("conditions", []) if c["type"] == type_), None
    )


async def mark_deployments_ready(api: HttpKubeApi, cluster: FunnelEmulator, tenant: str) -> int:
    """Play the Deployment controller: every replica of every Deployment is ready."""
    count = 0
    for (kind, name), raw in live_children(cluster, tenant).items():
        if kind != "Deployment":
            continue
        replicas = raw["spec"].get("replicas", 1)
        path = object_path("apps/v1", "Deployment", raw["metadata"]["namespace"], name, "status")
        status = {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas}
        await api.patch(path, {"status": status})
        count += 1
    return count
