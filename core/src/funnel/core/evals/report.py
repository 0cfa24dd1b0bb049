"""The score table and the JSON results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from funnel.core.evals.runner import ScenarioReport


def summary(reports: Sequence[ScenarioReport]) -> dict[str, Any]:
    ran = [r for r in reports if not r.skipped]
    required = [r for r in ran if r.required]
    return {
        "scenarios": len(reports),
        "ran": len(ran),
        "skipped": len(reports) - len(ran),
        "passed": sum(1 for r in ran if r.passed),
        "failed": sum(1 for r in ran if not r.passed),
        "required": len(required),
        "required_failed": [r.name for r in required if not r.passed],
        "checks_passed": sum(r.passed_checks for r in ran),
        "checks_failed": sum(r.failed_checks for r in ran),
    }


def table(reports: Sequence[ScenarioReport]) -> str:
    """A fixed-width table: one row per scenario, then the failures, then the totals."""
    width = max([len("scenario"), *(len(r.name) for r in reports)])
    header = (
        f"{'scenario':<{width}}  {'provider':<8}  {'turns':>5}  {'pass':>4}  {'fail':>4}  "
        f"{'req':<3}  result"
    )
    lines = [header, "-" * len(header)]
    for r in reports:
        result = "skip" if r.skipped else ("PASS" if r.passed else "FAIL")
        lines.append(
            f"{r.name:<{width}}  {r.provider:<8}  {len(r.turns):>5}  {r.passed_checks:>4}  "
            f"{r.failed_checks:>4}  {'yes' if r.required else '':<3}  {result}"
        )
    failures = [
        f"  {r.name} turn {t.index}: {c.name} — {c.detail}"
        for r in reports
        for t in r.turns
        for c in t.failed
    ] + [f"  {r.name}: error {r.error}" for r in reports if r.error]
    if failures:
        lines += ["", "failures:", *failures]
    s = summary(reports)
    lines += [
        "",
        f"{s['passed']}/{s['ran']} scenarios passed ({s['skipped']} skipped), "
        f"{s['checks_passed']} checks passed, {s['checks_failed']} failed; "
        f"required failing: {', '.join(s['required_failed']) or 'none'}",
    ]
    return "\n".join(lines)


def write_json(path: Path, reports: Sequence[ScenarioReport], provider: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "provider": provider,
        "summary": summary(reports),
        "scenarios": [r.as_dict() for r in reports],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
