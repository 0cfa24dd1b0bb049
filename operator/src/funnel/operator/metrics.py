"""The operator's own Prometheus metrics (served by ``start_metrics_server``).

Names are part of the contract with the dashboards and alert rules in ``charts/``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECONCILE_TOTAL = Counter(
    "funnel_operator_reconcile_total",
    "FunnelTenant reconciliations, by trigger and result.",
    ["trigger", "result"],
)
RECONCILE_DURATION = Histogram(
    "funnel_operator_reconcile_duration_seconds",
    "Time one FunnelTenant reconciliation took.",
    ["trigger"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RECONCILE_ERRORS = Counter(
    "funnel_operator_reconcile_errors_total",
    "Reconciliations that failed, by reason (InvalidSpec, SecretsMissing, ApiError, ...).",
    ["reason"],
)
CHILD_WRITES = Counter(
    "funnel_operator_child_writes_total",
    "Child objects created, patched (drift or spec change) or deleted.",
    ["kind", "action"],
)
TENANTS = Gauge(
    "funnel_operator_tenants",
    "FunnelTenants this operator last saw, by phase.",
    ["phase"],
)
