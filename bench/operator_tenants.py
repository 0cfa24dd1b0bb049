"""Operator at scale: N FunnelTenants created at once against kmock.

The real ``funnel operator run`` runs as a subprocess (so its peak memory is its own) against
kmock in this process, extended as in the operator tests (``tests/operator/emulator.py``). This
process also plays the Deployment controller: every Deployment the operator creates is marked
available a moment later, so a tenant can reach Ready. Measured:

- time from the first create until every tenant's children exist, and until every tenant is Ready;
- the operator's peak resident memory (``VmHWM``), and its resident memory when settled;
- API calls the operator made per tenant to get there, by verb, and per tenant per resync pass
  once everything is Ready (the steady-state load a platform pays).

kmock is an in-memory Python server on the same two cores, so latencies are upper bounds against
a real API server; call counts do not depend on it.

    python bench/operator_tenants.py [--tenants 200] [--resync 30]

Writes ``bench/results/operator_tenants.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from funnel.operator.kube import ApiError, Credentials, HttpKubeApi, object_path  # noqa: E402
from tests.operator.emulator import FunnelEmulator, declare_resources  # noqa: E402
from tests.operator.factories import example, secrets_for  # noqa: E402

NS = "bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])
    return fields


def _tenant(i: int) -> dict[str, Any]:
    body = example("minimal")
    del body["metadata"]["uid"]
    body["metadata"] = {"name": f"t{i:04d}", "namespace": NS}
    body["spec"]["organisation"] = {"id": f"org-{i:04d}", "slug": f"t{i:04d}"}
    return body


async def _controller(api: HttpKubeApi, emulator: FunnelEmulator, stop: asyncio.Event) -> None:
    """Mark each new Deployment available, as the Deployment controller and kubelet would."""
    done: set[str] = set()
    while not stop.is_set():
        for (resource, namespace, name), obj in list(emulator.objects.items()):
            if resource.plural != "deployments" or obj.deleted or name in done:
                continue
            replicas = obj.raw.get("spec", {}).get("replicas", 1)
            status = {
                "replicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            }
            path = object_path("apps/v1", "Deployment", namespace or NS, name, "status")
            await api.patch(path, {"status": status})
            done.add(name)
        await asyncio.sleep(0.1)


def _phases(emulator: FunnelEmulator) -> collections.Counter[str]:
    phases: collections.Counter[str] = collections.Counter()
    for (resource, _ns, _name), obj in list(emulator.objects.items()):
        if resource.plural == "funneltenants" and not obj.deleted:
            phases[obj.raw.get("status", {}).get("phase", "None")] += 1
    return phases


def _children(emulator: FunnelEmulator) -> int:
    count = 0
    for (_resource, _ns, _name), obj in list(emulator.objects.items()):
        if not obj.deleted and obj.raw.get("metadata", {}).get("labels", {}).get(
            "funnel.dev/tenant"
        ):
            count += 1
    return count


async def run(tenants: int, resync: float, limit_s: float) -> dict[str, Any]:
    async with FunnelEmulator() as emulator, kmock.Server(emulator):
        declare_resources(emulator)
        url = str(emulator.url).rstrip("/")
        workdir = Path(tempfile.mkdtemp(prefix="funnel-bench-"))
        kubeconfig = workdir / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: kmock\n"
            f"clusters: [{{name: kmock, cluster: {{server: '{url}'}}}}]\n"
            "users: [{name: kmock, user: {}}]\n"
            "contexts: [{name: kmock, context: {cluster: kmock, user: kmock}}]\n"
        )

        async def login() -> Credentials:
            return Credentials(server=url)

        api = HttpKubeApi(login)
        secrets = secrets_for(_tenant(0))
        for secret in secrets:
            secret["metadata"]["namespace"] = NS
            await api.create(object_path("v1", "Secret", NS), secret)

        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "FUNNEL_OPERATOR__STANDALONE": "true",
            "FUNNEL_OPERATOR__RESYNC_INTERVAL_S": str(resync),
            "FUNNEL_OPERATOR__HEALTH_PORT": str(_free_port()),
            "FUNNEL_OBSERVABILITY__METRICS_PORT": str(_free_port()),
            "FUNNEL_OBSERVABILITY__LOG_LEVEL": "WARNING",
        }
        env.pop("KUBERNETES_SERVICE_HOST", None)
        log = (workdir / "operator.log").open("w")
        operator = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measurement
            [str(Path(sys.executable).parent / "funnel"), "operator", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # Wait for the operator's watch on FunnelTenants before creating any.
            deadline = time.monotonic() + 60
            while not any("funneltenants" in p and "watch=" in p for _, p in emulator.calls):
                if operator.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"operator did not start; see {workdir / 'operator.log'}")
                await asyncio.sleep(0.05)
            idle = _memory_kib(operator.pid)
            await asyncio.sleep(1.0)
            calls_at_start = len(emulator.calls)
            bench_requests_at_start = api.requests

            stop = asyncio.Event()
            controller = asyncio.create_task(_controller(api, emulator, stop))
            started = time.perf_counter()

            async def create(i: int) -> None:
                try:
                    await api.create(
                        object_path("funnel.dev/v1alpha1", "FunnelTenant", NS), _tenant(i)
                    )
                except ApiError as exc:
                    if exc.status != 409:  # 409: a resend after a dropped connection
                        raise

            await asyncio.gather(*(create(i) for i in range(tenants)))
            created = time.perf_counter() - started
            expected_children = 14 * tenants  # minimal.yaml: see tests/operator
            children_at = ready_at = None
            peak = idle.get("VmHWM", 0)
            while True:
                now = time.perf_counter() - started
                if children_at is None and _children(emulator) >= expected_children:
                    children_at = now
                phases = _phases(emulator)
                peak = max(peak, _memory_kib(operator.pid).get("VmHWM", 0))
                if phases.get("Ready", 0) == tenants:
                    ready_at = now
                    break
                if now > limit_s:
                    raise RuntimeError(f"not all Ready after {limit_s} s: {dict(phases)}")
                await asyncio.sleep(0.1)
            stop.set()
            await controller
            calls_at_ready = len(emulator.calls)
            bench_calls = api.requests - bench_requests_at_start
            operator_calls = calls_at_ready - calls_at_start - bench_calls
            verbs = collections.Counter(m for m, _ in emulator.calls[calls_at_start:calls_at_ready])

            # Steady state: two resync intervals with nothing changing; every tenant's timer
            # fires twice in that window.
            settle_start = len(emulator.calls)
            await asyncio.sleep(2 * resync)
            steady = emulator.calls[settle_start:]
            steady_calls = len(steady)
            steady_verbs = collections.Counter(m for m, _ in steady)
            settled = _memory_kib(operator.pid)
        finally:
            operator.terminate()
            try:
                operator.wait(timeout=20)
            except subprocess.TimeoutExpired:
                operator.kill()
            log.close()
            await api.close()

    return {
        "benchmark": "operator_tenants",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "tenants": tenants,
        "resync_interval_s": resync,
        "create_requests_s": round(created, 2),
        "all_children_s": round(children_at or 0.0, 2),
        "all_ready_s": round(ready_at, 2),
        "children": expected_children,
        "operator_rss_idle_mib": round(idle.get("VmRSS", 0) / 1024, 1),
        "operator_rss_peak_mib": round(max(peak, settled.get("VmHWM", 0)) / 1024, 1),
        "operator_rss_settled_mib": round(settled.get("VmRSS", 0) / 1024, 1),
        "operator_api_calls": operator_calls,
        "operator_api_calls_per_tenant": round(operator_calls / tenants, 1),
        "all_calls_by_verb_during_rollout": dict(verbs),
        "bench_calls_during_rollout": bench_calls,
        "steady_calls_per_tenant_per_resync": round(steady_calls / tenants / 2, 1),
        "steady_calls_by_verb": dict(steady_verbs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--resync", type=float, default=30.0, help="operator resync interval (s)")
    parser.add_argument("--limit", type=float, default=600.0, help="give up after (s)")
    args = parser.parse_args()
    result = asyncio.run(run(args.tenants, args.resync, args.limit))
    rows = [
        ("tenants created at once", f"{result['tenants']}"),
        ("children (14 per tenant)", f"{result['children']}"),
        ("create requests sent in", f"{result['create_requests_s']} s"),
        ("every child exists after", f"{result['all_children_s']} s"),
        ("every tenant Ready after", f"{result['all_ready_s']} s"),
        (
            "operator RSS idle / peak / settled (MiB)",
            f"{result['operator_rss_idle_mib']} / {result['operator_rss_peak_mib']}"
            f" / {result['operator_rss_settled_mib']}",
        ),
        ("operator API calls per tenant (to Ready)", f"{result['operator_api_calls_per_tenant']}"),
        ("API calls per tenant per resync pass", f"{result['steady_calls_per_tenant_per_resync']}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "operator_tenants.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {out / 'operator_tenants.json'}")


if __name__ == "__main__":
    main()
