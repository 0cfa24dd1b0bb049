"""Level-triggered reconciliation of one FunnelTenant.

Every trigger (create, spec update, resume after a restart, the periodic resync, a change to a
child Deployment) runs the same function: read the tenant and the Secrets it names, build the
desired children, create what is missing, patch what differs from the desired state, delete the
optional children the spec no longer wants, and write the status. Nothing depends on what the
previous run did or on the event that triggered this one, so a missed event, a crash half way or
a restart costs one extra pass and never a duplicate or a leftover.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from funnel.core.settings import OperatorSettings
from funnel.operator import builders
from funnel.operator.builders import BuildContext
from funnel.operator.kube import ApiError, KubeApi, object_path
from funnel.operator.metrics import CHILD_WRITES, TENANTS
from funnel.operator.spec import API_VERSION, KIND, Component, Tenant

log = logging.getLogger("funnel.operator")

Manifest = dict[str, Any]

COMPONENT_CONDITIONS = {
    Component.RECEIVER: "ReceiverReady",
    Component.BRIDGE: "BridgeReady",
    Component.WORKER: "WorkerReady",
    Component.API: "ApiReady",
}


class InvalidSpecError(Exception):
    """The spec can never be reconciled as it is; retrying will not help until it changes."""


class SecretsNotReadyError(Exception):
    """A referenced Secret or key is missing (or unusable); retrying later may succeed."""


class EventSink(Protocol):
    def __call__(
        self, body: Mapping[str, Any], *, type: str, reason: str, message: str
    ) -> None: ...


def _no_events(body: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    phase: str
    created: int
    patched: int
    deleted: int


# ------------------------------------------------------------------------------ pure helpers


def is_subset(desired: Any, live: Any) -> bool:
    """True when every field of ``desired`` is present with the same value in ``live``.

    The API server adds defaults and status to what was written (and other controllers may add
    annotations); those are not drift. A field the builder sets that differs, or a list whose
    items differ, is.
    """
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            key in live and is_subset(value, live[key]) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(desired) == len(live)
            and all(is_subset(d, v) for d, v in zip(desired, live, strict=True))
        )
    return bool(desired == live)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_conditions(
    previous: list[Mapping[str, Any]], new: list[dict[str, Any]], now: str
) -> list[dict[str, Any]]:
    """Keep ``lastTransitionTime`` from the previous condition of a type whose status held."""
    old = {c.get("type"): c for c in previous}
    merged = []
    for condition in new:
        before = old.get(condition["type"])
        if before is not None and before.get("status") == condition["status"]:
            condition["lastTransitionTime"] = before.get("lastTransitionTime") or now
        else:
            condition["lastTransitionTime"] = now
        merged.append(condition)
    return merged


def _condition(type_: str, ok: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": type_,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def component_readiness(live: Mapping[str, Any] | None) -> tuple[int, int]:
    """(ready, wanted) replicas of a live Deployment."""
    if live is None:
        return 0, 1
    wanted = int(live.get("spec", {}).get("replicas", 1))
    ready = int(live.get("status", {}).get("readyReplicas") or 0)
    return ready, wanted


def compute_status(
    tenant: Tenant,
    generation: int,
    deployments: Mapping[Component, Mapping[str, Any] | None],
    previous: Mapping[str, Any],
    ctx: BuildContext,
) -> dict[str, Any]:
    """The status of a tenant whose Secrets are valid and whose children were applied."""
    conditions = [
        _condition(
            "SecretsValid", True, "SecretsFound", "every referenced Secret key exists", generation
        )
    ]
    replicas: dict[str, int] = {}
    waiting: list[str] = []
    partially: list[str] = []
    for component in Component:
        ready, wanted = component_readiness(deployments.get(component))
        replicas[component.value] = ready
        ok = ready >= wanted
        if not ok:
            waiting.append(component.value)
            if ready > 0:
                partially.append(component.value)
        conditions.append(
            _condition(
                COMPONENT_CONDITIONS[component],
                ok,
                "DeploymentReady" if ok else "DeploymentNotReady",
                f"{ready}/{wanted} replicas ready",
                generation,
            )
        )
    all_ready = not waiting
    conditions.insert(
        0,
        _condition(
            "Ready",
            all_ready,
            "AllComponentsReady" if all_ready else "ComponentsNotReady",
            "receiver, bridge, worker and api are ready"
            if all_ready
            else f"waiting for: {', '.join(waiting)}",
            generation,
        ),
    )
    # Degraded: the tenant was serving and lost capacity (as opposed to still starting up).
    was_serving = previous.get("phase") in ("Ready", "Degraded")
    degraded = bool(waiting) and (was_serving or bool(partially))
    conditions.append(
        _condition(
            "Degraded",
            degraded,
            "ComponentsUnavailable" if degraded else "AsExpected",
            f"below the desired replicas: {', '.join(waiting)}"
            if degraded
            else "no component is degraded",
            generation,
        )
    )
    phase = "Ready" if all_ready else ("Degraded" if degraded else "Progressing")
    worker = deployments.get(Component.WORKER) or {}
    return {
        "observedGeneration": generation,
        "phase": phase,
        "ready": f"{len(Component) - len(waiting)}/{len(Component)}",
        "conditions": conditions,
        "replicas": replicas,
        "workerReplicas": int(worker.get("status", {}).get("replicas") or 0),
        "workerSelector": builders.selector_string(tenant, Component.WORKER),
        "webhookUrl": builders.webhook_url(tenant, ctx),
    }


def failure_status(
    generation: int, phase: str, reason: str, message: str, previous: Mapping[str, Any]
) -> dict[str, Any]:
    """Status for a tenant that could not be applied (invalid spec, or Secrets missing)."""
    conditions = [_condition("Ready", False, reason, message, generation)]
    if reason == "SecretsMissing":
        conditions.append(_condition("SecretsValid", False, reason, message, generation))
    # Keep the component conditions the tenant already had: the children are still there.
    kept = [
        dict(c)
        for c in previous.get("conditions", [])
        if c.get("type") not in {c2["type"] for c2 in conditions}
    ]
    status = dict(previous)
    status.update(
        {"observedGeneration": generation, "phase": phase, "conditions": conditions + kept}
    )
    return status


def secret_values(secret: Mapping[str, Any], key: str) -> str | None:
    data = secret.get("data") or {}
    if key in data:
        return str(data[key])
    string_data = secret.get("stringData") or {}
    if key in string_data:
        return base64.b64encode(str(string_data[key]).encode()).decode()
    return None


def _json_safe(encoded: str) -> bool:
    """Values spliced into the channel JSON by the kubelet must not break the JSON."""
    try:
        raw = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return not any(ch in raw for ch in '"\\') and all(ch.isprintable() for ch in raw)


def secret_references(tenant: Tenant) -> dict[str, list[tuple[str, bool]]]:
    """Secret name → [(key, must be JSON-safe)] for everything the pods read from Secrets."""
    spec = tenant.spec
    refs: dict[str, list[tuple[str, bool]]] = {}

    def add(name: str, key: str, json_safe: bool = False) -> None:
        refs.setdefault(name, []).append((key, json_safe))

    wa = spec.whatsapp.secret_ref
    add(wa.name, wa.access_token_key)
    for key in wa.app_secret_keys:
        add(wa.name, key, json_safe=True)
    add(wa.name, wa.verify_token_key, json_safe=True)
    if spec.llm.api_key_secret_ref is not None:
        add(spec.llm.api_key_secret_ref.name, spec.llm.api_key_secret_ref.key)
    add(spec.database.url_secret_ref.name, spec.database.url_secret_ref.key)
    if spec.sqs.credentials_secret_ref is not None:
        ref = spec.sqs.credentials_secret_ref
        add(ref.name, ref.access_key_id_key)
        add(ref.name, ref.secret_access_key_key)
    auth = spec.auth.secret_ref
    add(auth.name, auth.jwt_secret_key)
    add(auth.name, auth.service_token_key)
    add(auth.name, auth.encryption_keys_key)
    return refs


# --------------------------------------------------------------------------- the reconciler


@dataclass
class Reconciler:
    api: KubeApi
    settings: OperatorSettings
    emit: EventSink = _no_events
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _queued: set[str] = field(default_factory=set)
    _monitoring: tuple[float, bool] | None = None
    _phases: dict[str, str] = field(default_factory=dict)

    # --------------------------------------------------------------------- serialisation

    @contextlib.asynccontextmanager
    async def locked(self, key: str) -> AsyncIterator[None]:
        """One reconciliation per tenant at a time (handlers, timer and child events overlap)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield

    async def reconcile_soon(
        self, namespace: str, name: str, trigger: str, *, status_only: bool = False
    ) -> None:
        """Act on a child's event for the tenant that owns it; a burst coalesces into one pass.

        ``status_only``: a Deployment's readiness changed, so only the status needs refreshing
        (the Deployments are read, nothing is applied); a deleted child takes a full pass.
        """
        key = f"{namespace}/{name}:{'status' if status_only else 'full'}"
        if key in self._queued:
            return
        self._queued.add(key)
        try:
            async with self.locked(f"{namespace}/{name}"):
                self._queued.discard(key)
                body = await self.api.get(object_path(API_VERSION, KIND, namespace, name))
                if body is None or body.get("metadata", {}).get("deletionTimestamp"):
                    return
                if status_only:
                    await self._refresh_status(body)
                else:
                    await self._reconcile(body, trigger)
        except (InvalidSpecError, SecretsNotReadyError):
            pass  # already recorded in the status; the tenant's own handlers retry
        finally:
            self._queued.discard(key)

    async def reconcile(self, body: Mapping[str, Any], trigger: str) -> Outcome:
        meta = body["metadata"]
        async with self.locked(f"{meta['namespace']}/{meta['name']}"):
            return await self._reconcile(body, trigger)

    def forget(self, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        self._locks.pop(key, None)
        self._phases.pop(key, None)
        self._publish_phases()

    # ------------------------------------------------------------------------ the pass

    async def _reconcile(self, body: Mapping[str, Any], trigger: str) -> Outcome:
        meta = body["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        generation = int(meta.get("generation") or 1)
        previous: Mapping[str, Any] = body.get("status") or {}
        tenant_path = object_path(API_VERSION, KIND, namespace, name)

        try:
            tenant = Tenant.from_body(body)
        except ValidationError as exc:
            message = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}"
                for err in exc.errors()
            )
            await self._write_status(
                body,
                tenant_path,
                failure_status(generation, "Failed", "InvalidSpec", message, previous),
            )
            raise InvalidSpecError(message) from exc

        if tenant.spec.paused:
            status = dict(previous)
            status.update({"observedGeneration": generation, "phase": "Paused"})
            await self._write_status(body, tenant_path, status)
            return Outcome("Paused", 0, 0, 0)

        secrets_hash, problems = await self._check_secrets(tenant)
        if problems:
            message = "; ".join(problems)
            await self._write_status(
                body,
                tenant_path,
                failure_status(generation, "Pending", "SecretsMissing", message, previous),
            )
            raise SecretsNotReadyError(message)

        ctx = BuildContext(
            image_registry=self.settings.image_registry,
            image_tag=self.settings.image_tag,
            secrets_hash=secrets_hash,
            service_monitor=await self._has_service_monitors(),
            webhook_url_template=self.settings.webhook_url_template,
        )
        desired = builders.desired_children(tenant, ctx)
        created = patched = deleted = 0
        deployments: dict[Component, Mapping[str, Any] | None] = {}
        for child in desired:
            live, action = await self._apply(child)
            created += action == "create"
            patched += action == "patch"
            if child["kind"] == "Deployment":
                deployments[Component(child["metadata"]["labels"][builders.LABEL_COMPONENT])] = live

        # Optional children are swept only when the spec may have changed what is optional: a
        # timer tick on an unchanged spec must not cost nine DELETE calls per tenant.
        if trigger in ("create", "resume") or previous.get("observedGeneration") != generation:
            wanted = {(c["kind"], c["metadata"]["name"]) for c in desired}
            for api_version, kind, child_name in builders.possible_optional_children(tenant):
                if (kind, child_name) in wanted:
                    continue
                if kind == "ServiceMonitor" and not ctx.service_monitor:
                    continue
                if await self.api.delete(object_path(api_version, kind, namespace, child_name)):
                    deleted += 1
                    CHILD_WRITES.labels(kind=kind, action="delete").inc()

        status = compute_status(tenant, generation, deployments, previous, ctx)
        await self._write_status(body, tenant_path, status)
        if created or patched or deleted:
            log.info(
                "tenant.reconciled",
                # "created" is a LogRecord attribute: the counts take a prefix.
                extra={
                    "tenant": f"{namespace}/{name}",
                    "trigger": trigger,
                    "children_created": created,
                    "children_patched": patched,
                    "children_deleted": deleted,
                },
            )
        return Outcome(status["phase"], created, patched, deleted)

    async def _refresh_status(self, body: Mapping[str, Any]) -> None:
        """Recompute the status from the live Deployments, applying nothing."""
        previous: Mapping[str, Any] = body.get("status") or {}
        generation = int(body["metadata"].get("generation") or 1)
        if previous.get("observedGeneration") != generation or previous.get("phase") in (
            None,
            "Failed",
            "Pending",
            "Paused",
        ):
            return  # a full pass for this generation is due or running; it writes the status
        try:
            tenant = Tenant.from_body(body)
        except ValidationError:
            return
        ctx = BuildContext(webhook_url_template=self.settings.webhook_url_template)
        deployments: dict[Component, Mapping[str, Any] | None] = {}
        for component in Component:
            deployments[component] = await self.api.get(
                object_path(
                    "apps/v1",
                    "Deployment",
                    tenant.namespace,
                    builders.child_name(tenant, component),
                )
            )
        tenant_path = object_path(API_VERSION, KIND, tenant.namespace, tenant.name)
        await self._write_status(
            body, tenant_path, compute_status(tenant, generation, deployments, previous, ctx)
        )

    async def _apply(self, child: Manifest) -> tuple[Mapping[str, Any], str]:
        meta = child["metadata"]
        path = object_path(child["apiVersion"], child["kind"], meta["namespace"], meta["name"])
        live = await self.api.get(path)
        if live is None:
            try:
                result = await self.api.create(
                    object_path(child["apiVersion"], child["kind"], meta["namespace"]), child
                )
            except ApiError as exc:
                if exc.status != 409:
                    raise
                # Created between our read and write (another pass, or a peer taking over):
                # fall through to the comparison against what is there now.
                live = await self.api.get(path)
                if live is None:
                    raise
            else:
                CHILD_WRITES.labels(kind=child["kind"], action="create").inc()
                return result, "create"
        if is_subset(child, live):
            return live, "none"
        result = await self.api.patch(path, child)
        CHILD_WRITES.labels(kind=child["kind"], action="patch").inc()
        return result, "patch"

    async def _check_secrets(self, tenant: Tenant) -> tuple[str, list[str]]:
        problems: list[str] = []
        digest = hashlib.sha256()
        for secret_name, keys in sorted(secret_references(tenant).items()):
            secret = await self.api.get(object_path("v1", "Secret", tenant.namespace, secret_name))
            if secret is None:
                problems.append(f"Secret {secret_name} not found")
                continue
            for key, json_safe in keys:
                value = secret_values(secret, key)
                if value is None:
                    problems.append(f"Secret {secret_name} has no key {key}")
                elif json_safe and not _json_safe(value):
                    problems.append(
                        f"Secret {secret_name} key {key} must be printable text without quotes or "
                        "backslashes (it is spliced into JSON)"
                    )
                else:
                    digest.update(f"{secret_name}/{key}={value}\n".encode())
        return digest.hexdigest()[:16], problems

    async def _has_service_monitors(self) -> bool:
        # Discovery is cached: CRDs are installed rarely and each check is an API call.
        now = time.monotonic()
        if self._monitoring is not None and now - self._monitoring[0] < 300:
            return self._monitoring[1]
        group = await self.api.get("/apis/monitoring.coreos.com/v1")
        found = bool(
            group and any(r.get("kind") == "ServiceMonitor" for r in group.get("resources", []))
        )
        self._monitoring = (now, found)
        return found

    async def _write_status(
        self, body: Mapping[str, Any], tenant_path: str, status: dict[str, Any]
    ) -> None:
        previous: Mapping[str, Any] = body.get("status") or {}
        status["conditions"] = merge_conditions(
            list(previous.get("conditions", [])), list(status.get("conditions", [])), _now()
        )
        self._announce(body, previous, status)
        meta = body["metadata"]
        self._phases[f"{meta['namespace']}/{meta['name']}"] = str(status.get("phase"))
        self._publish_phases()
        if all(previous.get(k) == v for k, v in status.items()):
            return  # unchanged: no write, no MODIFIED event, no churn
        await self.api.patch(tenant_path + "/status", {"status": status})

    def _announce(
        self, body: Mapping[str, Any], previous: Mapping[str, Any], status: Mapping[str, Any]
    ) -> None:
        """A Kubernetes Event for each condition that changed status, and for phase changes."""
        before = {c.get("type"): c.get("status") for c in previous.get("conditions", [])}
        for condition in status.get("conditions", []):
            # A condition's first appearance is covered by the phase Event; each Event is an API
            # call, and a new tenant would otherwise cost seven of them at once.
            if before.get(condition["type"], condition["status"]) == condition["status"]:
                continue
            healthy = (condition["status"] == "True") != (condition["type"] == "Degraded")
            self.emit(
                body,
                type="Normal" if healthy else "Warning",
                reason=condition["reason"],
                message=f"{condition['type']}={condition['status']}: {condition['message']}",
            )
        if previous.get("phase") != status.get("phase"):
            ready = next(
                (c for c in status.get("conditions", []) if c["type"] == "Ready"), {"message": ""}
            )
            self.emit(
                body,
                type="Warning"
                if status.get("phase") in ("Failed", "Degraded", "Pending")
                else "Normal",
                reason=f"Phase{status.get('phase')}",
                message=f"phase {previous.get('phase') or 'None'} -> {status.get('phase')}: "
                f"{ready['message']}",
            )

    def _publish_phases(self) -> None:
        counts: dict[str, int] = {}
        for phase in self._phases.values():
            counts[phase] = counts.get(phase, 0) + 1
        for phase in ("Pending", "Progressing", "Ready", "Degraded", "Paused", "Failed"):
            TENANTS.labels(phase=phase).set(counts.get(phase, 0))
