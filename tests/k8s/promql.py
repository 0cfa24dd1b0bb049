"""Metric names used by PromQL expressions, and metric names the Python sources define."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_FUNCTIONS = {
    "abs",
    "absent",
    "absent_over_time",
    "avg",
    "avg_over_time",
    "bottomk",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "count",
    "count_over_time",
    "delta",
    "deriv",
    "floor",
    "group",
    "histogram_quantile",
    "idelta",
    "increase",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "log2",
    "log10",
    "max",
    "max_over_time",
    "min",
    "min_over_time",
    "predict_linear",
    "quantile",
    "quantile_over_time",
    "rate",
    "resets",
    "round",
    "scalar",
    "sort",
    "sort_desc",
    "sqrt",
    "stddev",
    "stdvar",
    "sum",
    "sum_over_time",
    "time",
    "timestamp",
    "topk",
    "vector",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
}
_LABEL_LISTS = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label names, functions and literals removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = _LABEL_LISTS.sub("", text)  # grouping label lists
    text = re.sub(r"\$\{?\w+\}?", "", text)  # Grafana variables
    names = set()
    for token in re.findall(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if token.lower() not in _FUNCTIONS:
            names.add(token)
    return names


def grafana_query_metrics(query: str) -> set[str]:
    """Grafana's ``label_values(metric{...}, label)``: only the first argument is a metric."""
    match = re.match(r"\s*label_values\((.*),\s*\w+\s*\)\s*$", query)
    return metric_names(match.group(1)) if match else metric_names(query)


_DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*[\"']([A-Za-z_:][\w:]*)[\"']")


def defined_series(sources: Iterable[Path]) -> set[str]:
    """Every series name the prometheus_client definitions in ``sources`` export."""
    series: set[str] = set()
    for path in sources:
        for kind, name in _DEFINITION.findall(path.read_text()):
            if kind == "Counter":
                base = name.removesuffix("_total")
                series |= {f"{base}_total", f"{base}_created"}
            elif kind in ("Histogram", "Summary"):
                series |= {f"{name}_count", f"{name}_sum", f"{name}_created"}
                if kind == "Histogram":
                    series.add(f"{name}_bucket")
                else:
                    series.add(name)
            else:
                series.add(name)
    return series
