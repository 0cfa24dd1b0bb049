"""Every metric the dashboards and alert rules use is exported by Funnel's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.promql import defined_series, grafana_query_metrics, metric_names
from tests.k8s.schemas import ROOT

CHART = ROOT / "charts" / "funnel-operator"
SOURCES = sorted(ROOT.glob("*/src/funnel/**/*.py"))


def _dashboard_exprs(node: Any) -> list[str]:
    exprs: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            exprs.append(node["expr"])
        for value in node.values():
            exprs += _dashboard_exprs(value)
    elif isinstance(node, list):
        for value in node:
            exprs += _dashboard_exprs(value)
    return exprs


def used_metrics() -> dict[str, set[str]]:
    """Metric name → the files that use it."""
    used: dict[str, set[str]] = {}
    for path in CHART.glob("dashboards/*.json"):
        dashboard = json.loads(path.read_text())
        names = set()
        for expr in _dashboard_exprs(dashboard["panels"]):
            names |= metric_names(expr)
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            if variable.get("type") == "query" and isinstance(query, str):
                names |= grafana_query_metrics(query)
        for name in names:
            used.setdefault(name, set()).add(path.name)
    rules = yaml.safe_load((CHART / "rules" / "funnel.rules.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                used.setdefault(name, set()).add("funnel.rules.yaml")
    return used


def test_every_dashboard_and_rule_metric_is_defined_in_code() -> None:
    defined = defined_series(SOURCES)
    used = used_metrics()
    assert len(used) >= 10  # the scan found the expressions at all
    undefined = {name: sorted(files) for name, files in used.items() if name not in defined}
    assert undefined == {}


def test_operator_metrics_are_among_the_definitions() -> None:
    defined = defined_series(SOURCES)
    assert {
        "funnel_operator_reconcile_total",
        "funnel_operator_reconcile_duration_seconds_bucket",
        "funnel_operator_reconcile_errors_total",
    } <= defined


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            "histogram_quantile(0.99, sum by (funnel_dev_tenant, le)"
            ' (rate(x_seconds_bucket{method="POST"}[5m]))) > 1',
            {"x_seconds_bucket"},
        ),
        ('sum by (reason) (rate(a_total[10m])) / ignoring(reason) b{l=~"x|y"}', {"a_total", "b"}),
        ('absent(up{service="funnel-operator"})', {"up"}),
        ('sum(rate(c_total{ns=~"$namespace"}[$__rate_interval])) offset 5m', {"c_total"}),
    ],
)
def test_metric_name_extraction(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_grafana_label_values_query() -> None:
    query = 'label_values(funnel_process_up{namespace=~"$namespace"}, funnel_dev_tenant)'
    assert grafana_query_metrics(query) == {"funnel_process_up"}


def test_an_undefined_metric_is_caught(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        'H = Histogram(\n    "funnel_x_seconds", "doc")\nC = Counter("funnel_y", "doc")\n'
    )
    defined = defined_series([source])
    assert {"funnel_x_seconds_bucket", "funnel_y_total"} <= defined
    assert "funnel_x_seconds" not in defined  # a histogram exports no bare series
    assert "funnel_z_total" not in defined
