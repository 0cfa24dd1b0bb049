"""kopf handlers: thin, typed adapters from kopf's causes to :class:`Reconciler`.

Each operator run gets its own registry (``build_registry``), so a test can start, stop and
restart the operator in one process without handlers piling up on kopf's global registry.

Triggers, and why each exists:

- create / update (spec only) / resume: the tenant changed, or the operator (re)started and must
  converge on what is there without duplicating anything;
- a timer every ``resync_interval_s``: level-triggered repair of hand edits to any child and a
  status refresh when no event arrives;
- events of the Deployments the operator manages: a deleted Deployment is recreated, and a
  change in ready replicas reaches the tenant's status, without waiting for the timer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import kopf

from funnel.core.settings import OperatorSettings
from funnel.operator.builders import LABEL_MANAGED_BY, MANAGED_BY
from funnel.operator.kube import ApiError, Credentials, HttpKubeApi, credentials_from_kopf
from funnel.operator.metrics import RECONCILE_DURATION, RECONCILE_ERRORS, RECONCILE_TOTAL
from funnel.operator.reconcile import InvalidSpecError, Reconciler, SecretsNotReadyError
from funnel.operator.spec import GROUP, KIND, PLURAL, VERSION

log = logging.getLogger("funnel.operator")


def post_event(body: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
    """Post a Kubernetes Event through kopf's poster (batched, with generateName)."""
    kopf.event(kopf.Body(cast(kopf.RawBody, dict(body))), type=type, reason=reason, message=message)


@dataclass
class OperatorState:
    """What one operator run holds between handler calls."""

    settings: OperatorSettings
    reconciler: Reconciler | None = None
    api: HttpKubeApi | None = None
    #: (namespace, name) of a managed Deployment → its last seen (ready, wanted) replicas.
    readiness: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


def build_registry(settings: OperatorSettings) -> tuple[kopf.OperatorRegistry, OperatorState]:
    registry = kopf.OperatorRegistry()
    state = OperatorState(settings=settings)
    resource = (GROUP, VERSION, PLURAL)

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        # A registry of our own has none of the default login handlers: name the one we use
        # (the kubernetes client's: in-cluster service account first, kubeconfig otherwise).
        return kopf.login_via_client(**kwargs)

    @kopf.on.startup(registry=registry)
    async def configure(settings: kopf.OperatorSettings, logger: Any, **_: Any) -> None:
        # Progress and the last-handled spec go to annotations under our own prefix, keeping the
        # status for what users read (conditions, phase, replicas).
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=GROUP, key="last-handled-configuration"
        )
        # Handler successes are not worth an Event each; the reconciler posts the transitions.
        settings.posting.level = logging.WARNING
        settings.watching.server_timeout = 300
        # The watched resources are fixed and known: no CRD or namespace observation, so the
        # operator needs no RBAC on customresourcedefinitions or namespaces.
        settings.scanning.disabled = True
        # A tenant's deletion waits for its resync timer to stop; by default kopf re-checks a
        # still-running timer only every 60 s. One pass takes well under a second: wait for it.
        settings.background.instant_exit_timeout = 5.0
        settings.background.cancellation_polling = 1.0
        settings.networking.request_timeout = 60

        async def login() -> Credentials:
            info = await asyncio.to_thread(kopf.login_via_client, logger=logger, settings=settings)
            if info is None:
                raise kopf.PermanentError("no Kubernetes credentials (in-cluster or kubeconfig)")
            return credentials_from_kopf(info)

        state.api = HttpKubeApi(login)
        state.reconciler = Reconciler(api=state.api, settings=state.settings, emit=post_event)

    @kopf.on.cleanup(registry=registry)
    async def close(**_: Any) -> None:
        if state.api is not None:
            await state.api.close()

    async def run(body: Mapping[str, Any], trigger: str) -> None:
        assert state.reconciler is not None  # set by the startup handler before any other
        started = time.perf_counter()
        result = "ok"
        try:
            await state.reconciler.reconcile(body, trigger)
        except InvalidSpecError as exc:
            result = "invalid"
            RECONCILE_ERRORS.labels(reason="InvalidSpec").inc()
            # Permanent: the same spec will fail the same way; the next spec change retries.
            raise kopf.PermanentError(f"invalid spec: {exc}") from exc
        except SecretsNotReadyError as exc:
            result = "waiting"
            RECONCILE_ERRORS.labels(reason="SecretsMissing").inc()
            raise kopf.TemporaryError(str(exc), delay=state.settings.retry_delay_s) from exc
        except ApiError as exc:
            result = "error"
            RECONCILE_ERRORS.labels(reason="ApiError").inc()
            raise kopf.TemporaryError(
                f"API error {exc}", delay=state.settings.retry_delay_s
            ) from exc
        except Exception:
            result = "error"
            RECONCILE_ERRORS.labels(reason="Unexpected").inc()
            raise  # kopf logs it and retries with its backoff
        finally:
            RECONCILE_TOTAL.labels(trigger=trigger, result=result).inc()
            RECONCILE_DURATION.labels(trigger=trigger).observe(time.perf_counter() - started)

    @kopf.on.resume(*resource, registry=registry)
    async def resumed(body: kopf.Body, **_: Any) -> None:
        await run(body, "resume")

    @kopf.on.create(*resource, registry=registry)
    async def created(body: kopf.Body, **_: Any) -> None:
        await run(body, "create")

    @kopf.on.update(*resource, field="spec", registry=registry)
    async def updated(body: kopf.Body, **_: Any) -> None:
        await run(body, "update")

    @kopf.timer(
        *resource,
        interval=settings.resync_interval_s,
        initial_delay=settings.resync_interval_s,
        registry=registry,
    )
    async def resync(body: kopf.Body, **_: Any) -> None:
        if body.get("metadata", {}).get("deletionTimestamp"):
            return  # going away: the garbage collector takes the children
        await run(body, "resync")

    @kopf.on.delete(*resource, optional=True, registry=registry)
    async def deleted(body: kopf.Body, **_: Any) -> None:
        # Children go with the tenant through their owner references (the garbage collector);
        # there is nothing outside the cluster to release, so no blocking finalizer work here.
        if state.reconciler is not None:
            state.reconciler.forget(body)

    @kopf.on.event(
        "apps", "v1", "deployments", labels={LABEL_MANAGED_BY: MANAGED_BY}, registry=registry
    )
    async def deployment_changed(body: kopf.Body, type: str | None, **_: Any) -> None:
        owner = next(
            (
                ref
                for ref in body.get("metadata", {}).get("ownerReferences", [])
                if ref.get("kind") == KIND
                and str(ref.get("apiVersion", "")).startswith(GROUP + "/")
            ),
            None,
        )
        if owner is None or state.reconciler is None:
            return
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        spec_replicas = body.get("spec", {}).get("replicas", 1)
        now = (int(body.get("status", {}).get("readyReplicas") or 0), int(spec_replicas))
        before = state.readiness.get(key)
        if type == "DELETED":
            state.readiness.pop(key, None)
        else:
            state.readiness[key] = now
            # A first sighting of a Deployment with nothing ready yet (our own create, usually)
            # needs no pass; a change in readiness does, and so does a first sighting of ready
            # replicas (the Deployment became ready before its ADDED event reached us).
            if now == before or (before is None and now[0] == 0):
                return
        await state.reconciler.reconcile_soon(
            meta["namespace"], owner["name"], "child", status_only=type != "DELETED"
        )

    return registry, state
