"""kmock 0.8 as an API server kopf can run against, and the operator in a thread of its own.

Plain ``kmock.KubernetesEmulator`` misses what kopf and the operator rely on (see
``shared/docs/testing-infra.md``); this subclass adds it:

- ``metadata.uid``, ``creationTimestamp``, ``resourceVersion`` (bumped on every write) and
  ``generation`` (bumped when ``spec`` changes), and ``apiVersion``/``kind`` on create;
- ``generateName`` (kopf posts Events with it; without it the second Event gets 409);
- 422, not 500, when a JSON-patch ``test`` op fails (kopf's optimistic finalizer patch);
- no replay of existing objects at the start of a watch (kopf has just listed them);
- the garbage collector's cascade: deleting an owner deletes its dependents, as the cluster
  does through ``ownerReferences`` (kmock runs no controllers);
- constant cost per request: kmock keeps every request for matching and rescans the list on
  each new one; only in-flight requests are kept (``calls`` records method and path instead),
  and single objects are found by key instead of by scanning the store.

It overrides private methods of kmock, hence the exact pin ``kmock==0.8``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import itertools
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import jsonpatch
import kmock
import kopf
import pytest
from kmock._internal import dicts, enums, rendering

from funnel.core.settings import OperatorSettings
from funnel.operator.handlers import OperatorState, build_registry
from funnel.operator.spec import GROUP, KIND, PLURAL, VERSION

TENANTS = f"{GROUP}/{VERSION}/{PLURAL}"


@attrs.define(kw_only=True)
class FunnelEmulator(kmock.KubernetesEmulator):
    _versions: Iterator[int] = attrs.field(factory=lambda: itertools.count(1000), init=False)
    #: (method, path?query) of every request, for assertions and the benchmark's call counts.
    calls: list[tuple[str, str]] = attrs.field(factory=list, init=False)
    _inflight: set[int] = attrs.field(factory=set, init=False)

    # The request objects are frozen and matched by identity further down kmock, so the stamps
    # go into the parsed body in place.

    def _stamp_create(self, request: rendering.Request) -> None:
        data = request.data
        meta = data.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(4)
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault(
            "creationTimestamp",
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        meta["resourceVersion"] = str(next(self._versions))
        meta["generation"] = 1
        if request.namespace and not meta.get("namespace"):
            meta["namespace"] = request.namespace
        resource = request.resource
        if resource is not None:
            data.setdefault("apiVersion", f"{resource.group or ''}/{resource.version}".lstrip("/"))
            if resource in self.resources and self.resources[resource].kind:
                data.setdefault("kind", self.resources[resource].kind)

    def _stamp_update(self, request: rendering.Request) -> None:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return  # the base class answers 404
        live = copy.deepcopy(self.objects[key].raw)
        version = str(next(self._versions))
        if isinstance(request.data, list):
            try:
                # Dry run: the base class applies it; here only a failed `test` op is answered.
                jsonpatch.apply_patch(live, request.data, in_place=False)
            except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPatchTestFailed) as exc:
                raise kmock.KubernetesError(status=422, reason="Invalid", message=str(exc)) from exc
            request.data.append(
                {"op": "add", "path": "/metadata/resourceVersion", "value": version}
            )
            return
        data = request.data
        if request.subresource == "status":
            for key_ in [k for k in data if k != "status"]:
                del data[key_]  # the status endpoint writes nothing else
        elif self._has_status(request) and "status" in data:
            del data["status"]  # ... and the main endpoint no status
        meta = data.setdefault("metadata", {})
        meta["resourceVersion"] = version
        if "spec" in data:
            merged = dicts.merge_patch_dict(live, {"spec": data["spec"]})
            if merged.get("spec") != live.get("spec"):
                meta["generation"] = int(live.get("metadata", {}).get("generation", 1)) + 1

    def _has_status(self, request: rendering.Request) -> bool:
        resource = request.resource
        return resource in self.resources and "status" in self.resources[resource].subresources

    async def _handle(self, request: rendering.Request) -> Any:
        self.calls.append((str(request.method.value).upper(), str(request.url.path_qs)))
        # kmock matches each request against its reactions by scanning the whole request log
        # (`request in view`), which makes every request cost O(requests so far): 160 ms per GET
        # after a few hundred. Only requests still being served need to stay in the log.
        self._inflight.add(id(request))
        self._requests[:] = [r for r in self._requests if id(r) in self._inflight]
        try:
            return await self._serve(request)
        finally:
            self._inflight.discard(id(request))

    async def _serve(self, request: rendering.Request) -> Any:
        if request.resource is not None:
            if request.action == enums.action.CREATE and isinstance(request.data, dict):
                self._stamp_create(request)
            elif request.action == enums.action.UPDATE and request.name is not None:
                self._stamp_update(request)
        response = await super()._handle(request)
        # An object goes either on DELETE or, when it had finalizers, on the PATCH that releases
        # the last one: either way its dependents follow.
        deleting = request.action in (enums.action.DELETE, enums.action.UPDATE)
        if deleting and request.name is not None and request.resource is not None:
            key = (request.resource, request.namespace, request.name)
            if key in self.objects and self.objects[key].deleted and self.objects[key].history:
                await self._collect_dependents(self.objects[key].last.raw)
        return response

    def _KubernetesEmulator__get_obj(  # overrides kmock's name-mangled private lookup
        self, request: rendering.Request, strict: bool
    ) -> Any:
        # kmock finds one object by scanning every stored object (O(objects) per GET, PATCH and
        # DELETE: tens of ms with thousands of children); the store is a dict by exactly this key.
        store = self._objects._objects
        key = (request.resource, request.namespace, request.name)
        if strict and request.name is not None and key in store:
            return store[key]
        return self._KubernetesEmulator__get_obj_scan(request, strict)

    _KubernetesEmulator__get_obj_scan = kmock.KubernetesEmulator._KubernetesEmulator__get_obj  # type: ignore[attr-defined]

    async def _collect_dependents(self, owner: dict[str, Any]) -> None:
        uid = owner.get("metadata", {}).get("uid")
        if not uid:
            return
        doomed = []
        for (resource, namespace, name), obj in list(self.objects.items()):
            if obj.deleted:
                continue
            refs = obj.raw.get("metadata", {}).get("ownerReferences", [])
            if any(ref.get("uid") == uid for ref in refs):
                doomed.append((resource, namespace, name, obj))
        for resource, _namespace, _name, obj in doomed:
            raw = obj.raw
            obj.delete()
            await self._buses[resource].put({"type": "DELETED", "object": raw})
            await self._collect_dependents(raw)

    async def _serve_watch(self, request: rendering.Request) -> AsyncIterator[Any]:
        # kopf lists first and then watches from the list's resourceVersion: replaying the
        # objects here would hand it every object twice.
        yield b""
        assert request.resource is not None
        async for event in self._buses[request.resource]:
            namespace = event.get("object", {}).get("metadata", {}).get("namespace")
            if request.namespace is None or namespace == request.namespace:
                yield event


def declare_resources(emulator: kmock.KubernetesEmulator, *, monitoring: bool = False) -> None:
    emulator.resources.load_bundled()
    emulator.resources[TENANTS] = kmock.ResourceInfo(
        kind=KIND,
        namespaced=True,
        singular="funneltenant",
        subresources={"status", "scale"},
        verbs={"get", "list", "watch", "create", "update", "patch", "delete"},
    )
    if monitoring:
        emulator.resources["monitoring.coreos.com/v1/servicemonitors"] = kmock.ResourceInfo(
            kind="ServiceMonitor",
            namespaced=True,
            verbs={"get", "list", "watch", "create", "update", "patch", "delete"},
        )


def use_kubeconfig(monkeypatch: pytest.MonkeyPatch, url: str, directory: Path) -> None:
    config = directory / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: kmock\n"
        f"clusters: [{{name: kmock, cluster: {{server: '{url}'}}}}]\n"
        "users: [{name: kmock, user: {}}]\n"
        "contexts: [{name: kmock, context: {cluster: kmock, user: kmock}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    import kubernetes.config.kube_config

    # Read once at import time, so the environment variable alone is not enough.
    monkeypatch.setattr(kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(config))


class OperatorThread:
    """``kopf.operator`` in ``asyncio.run`` in a thread: as a task in the test's loop, kopf's
    shutdown would cancel pytest-asyncio's own teardown."""

    def __init__(self, settings: OperatorSettings) -> None:
        self.settings = settings
        self.state: OperatorState | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="kopf", daemon=True)
        self.error: BaseException | None = None

    def _main(self) -> None:
        registry, self.state = build_registry(self.settings)
        try:
            asyncio.run(
                kopf.operator(
                    registry=registry,
                    standalone=True,
                    clusterwide=True,
                    stop_flag=self._stop,
                    ready_flag=self._ready,
                )
            )
        except BaseException as exc:  # surfaced by the test that started it
            self.error = exc

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=20):
            raise TimeoutError("kopf did not become ready")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=20)
        if self._thread.is_alive():
            raise TimeoutError("kopf did not stop")


@contextlib.asynccontextmanager
async def running_operator(settings: OperatorSettings) -> AsyncIterator[OperatorThread]:
    """Start and stop off the event loop: kmock serves kopf from this loop meanwhile."""
    operator = OperatorThread(settings)
    await asyncio.to_thread(operator.start)
    try:
        yield operator
    finally:
        await asyncio.to_thread(operator.stop)
