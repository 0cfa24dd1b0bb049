"""Pure parts of the reconciler: drift detection, conditions, status."""

from __future__ import annotations

from typing import Any

from funnel.operator.builders import BuildContext
from funnel.operator.reconcile import compute_status, is_subset, merge_conditions
from funnel.operator.spec import Component
from tests.operator.factories import tenant


def test_server_added_fields_are_not_drift_but_changed_ones_are() -> None:
    desired = {"spec": {"replicas": 2, "template": {"containers": [{"name": "w", "image": "a"}]}}}
    live = {
        "metadata": {"resourceVersion": "7"},
        "spec": {
            "replicas": 2,
            "progressDeadlineSeconds": 600,
            "template": {
                "containers": [{"name": "w", "image": "a", "terminationMessagePath": "/dev/x"}]
            },
        },
        "status": {"readyReplicas": 2},
    }
    assert is_subset(desired, live)
    live["spec"]["replicas"] = 5
    assert not is_subset(desired, live)
    live["spec"]["replicas"] = 2
    live["spec"]["template"]["containers"].append({"name": "sidecar"})
    assert not is_subset(desired, live)


def test_transition_time_moves_only_when_status_changes() -> None:
    old = [{"type": "Ready", "status": "False", "lastTransitionTime": "T0"}]
    same = merge_conditions(old, [{"type": "Ready", "status": "False"}], "T1")
    flipped = merge_conditions(old, [{"type": "Ready", "status": "True"}], "T1")
    assert same[0]["lastTransitionTime"] == "T0"
    assert flipped[0]["lastTransitionTime"] == "T1"


def _deployment(ready: int, wanted: int) -> dict[str, Any]:
    return {"spec": {"replicas": wanted}, "status": {"readyReplicas": ready, "replicas": wanted}}


def test_status_ready_progressing_and_degraded() -> None:
    t = tenant("minimal")
    ctx = BuildContext()
    ready = {c: _deployment(2, 2) for c in Component}
    status = compute_status(t, 3, ready, {}, ctx)
    assert status["phase"] == "Ready"
    assert status["ready"] == "4/4"
    assert status["observedGeneration"] == 3
    conditions = {c["type"]: c for c in status["conditions"]}
    assert {k: v["status"] for k, v in conditions.items()} == {
        "Ready": "True",
        "SecretsValid": "True",
        "ReceiverReady": "True",
        "BridgeReady": "True",
        "WorkerReady": "True",
        "ApiReady": "True",
        "Degraded": "False",
    }
    assert all(c["observedGeneration"] == 3 for c in status["conditions"])
    assert status["webhookUrl"] == "https://acme.hooks.funnel.example/webhook"
    assert status["workerSelector"] == "funnel.dev/tenant=acme,app.kubernetes.io/component=worker"

    starting = {**ready, Component.WORKER: _deployment(0, 2)}
    status = compute_status(t, 3, starting, {}, ctx)
    assert status["phase"] == "Progressing"
    assert status["ready"] == "3/4"

    # The same numbers after the tenant has been Ready are a loss of capacity.
    status = compute_status(t, 3, starting, {"phase": "Ready"}, ctx)
    assert status["phase"] == "Degraded"
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True"
    assert "worker" in degraded["message"]
