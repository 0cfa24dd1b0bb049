"""The operator chart: lint, render, validate, RBAC, the CRD copy, values documentation."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.schemas import CRD_PATH, ROOT, load_crd, validate_k8s

CHART = ROOT / "charts" / "funnel-operator"
MONITORING = [
    "--api-versions",
    "monitoring.coreos.com/v1/ServiceMonitor",
    "--api-versions",
    "monitoring.coreos.com/v1/PrometheusRule",
]
SCENARIOS = {
    "defaults": [],
    "everything": [
        *MONITORING,
        "--set",
        "migrations.enabled=true,migrations.databaseSecret.name=funnel-db,"
        "migrations.authSecretName=funnel-auth",
    ],
    "namespaced-single": ["--set", "watchNamespace=tenants,replicaCount=1"],
}


def run_helm(helm_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm_bin), *args], capture_output=True, text=True, check=False)


def render(helm_bin: Path, *args: str, kube_version: str = "1.29.0") -> list[dict[str, Any]]:
    result = run_helm(
        helm_bin,
        "template",
        "funnel",
        str(CHART),
        "--namespace",
        "funnel-system",
        "--kube-version",
        kube_version,
        *args,
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_helm_lint_strict(helm_bin: Path) -> None:
    for args in SCENARIOS.values():
        # `helm lint` has no --api-versions: the monitoring branches are rendered in the tests
        # below, the values are linted here.
        values = [a for a in args if a not in MONITORING]
        result = run_helm(helm_bin, "lint", "--strict", str(CHART), *values)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "bad",
    ["replicaCount=0", "logLevel=LOUD", "image.pullPolicy=Sometimes", "unknownKey=1"],
)
def test_values_schema_refuses_bad_values(helm_bin: Path, bad: str) -> None:
    result = run_helm(helm_bin, "lint", "--strict", str(CHART), "--set", bad)
    assert result.returncode != 0


def test_migrations_require_their_secrets(helm_bin: Path) -> None:
    result = run_helm(helm_bin, "template", "x", str(CHART), "--set", "migrations.enabled=true")
    assert result.returncode != 0
    assert "databaseSecret" in result.stderr


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_rendered_manifests_pass_kubernetes_validate_strict(helm_bin: Path, scenario: str) -> None:
    docs = render(helm_bin, *SCENARIOS[scenario])
    validated = [d["kind"] for d in docs if validate_k8s(d)]
    assert "Deployment" in validated
    assert "CustomResourceDefinition" in validated


def test_everything_scenario_renders_monitoring_and_migrations(helm_bin: Path) -> None:
    docs = render(helm_bin, *SCENARIOS["everything"])
    kinds = {d["kind"] for d in docs}
    assert {"ServiceMonitor", "PrometheusRule", "Job", "ClusterKopfPeering"} <= kinds
    (job,) = by_kind(docs, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert all("secretKeyRef" in e["valueFrom"] for e in env)
    dashboards = [
        d for d in by_kind(docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]
    ]
    assert len(dashboards) == len(list((CHART / "dashboards").glob("*.json")))
    (rule,) = by_kind(docs, "PrometheusRule")
    shipped = yaml.safe_load((CHART / "rules" / "funnel.rules.yaml").read_text())
    assert rule["spec"] == shipped


def test_monitoring_objects_need_their_crds(helm_bin: Path) -> None:
    kinds = {d["kind"] for d in render(helm_bin)}
    assert "ServiceMonitor" not in kinds
    assert "PrometheusRule" not in kinds


def test_chart_crd_equals_the_source_of_truth(helm_bin: Path) -> None:
    (rendered,) = by_kind(render(helm_bin), "CustomResourceDefinition")
    annotations = rendered["metadata"].pop("annotations")
    assert annotations == {"helm.sh/resource-policy": "keep"}
    assert rendered == load_crd()
    crds_off = render(helm_bin, "--set", "crds.create=false")
    assert by_kind(crds_off, "CustomResourceDefinition") == []


def test_crd_template_body_is_a_verbatim_copy() -> None:
    """The same check without helm: the template minus its gate is crds/funneltenant.yaml."""
    template = (CHART / "templates" / "crd.yaml").read_text().splitlines(keepends=True)
    body = "".join(line for line in template if not line.lstrip().startswith("{{"))
    body = re.sub(r"  annotations:\n    #[^\n]*\n    helm.sh/resource-policy: keep\n", "", body)
    source = CRD_PATH.read_text()
    assert body == source[source.index("---\n") + 4 :]


def test_rbac_is_least_privilege(helm_bin: Path) -> None:
    for args, kind in (
        (SCENARIOS["defaults"], "ClusterRole"),
        (SCENARIOS["namespaced-single"], "Role"),
    ):
        docs = render(helm_bin, *args)
        (role,) = by_kind(docs, kind)
        rules = role["rules"]
        for rule in rules:
            assert "*" not in rule["verbs"]
            assert "*" not in rule["resources"]
            assert "*" not in rule["apiGroups"]
        verbs = {res: set(rule["verbs"]) for rule in rules for res in rule["resources"]}
        assert verbs["secrets"] == {"get"}
        assert "delete" not in verbs["deployments"]
        assert "update" not in set().union(*verbs.values())
        assert "customresourcedefinitions" not in verbs  # kopf scanning is disabled
    namespaced = render(helm_bin, *SCENARIOS["namespaced-single"])
    assert not by_kind(namespaced, "ClusterRole")
    assert by_kind(namespaced, "KopfPeering")[0]["metadata"]["namespace"] == "tenants"
    assert not by_kind(namespaced, "PodDisruptionBudget")  # one replica: nothing to protect


def test_operator_pod_is_locked_down(helm_bin: Path) -> None:
    (deployment,) = by_kind(render(helm_bin), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["operator", "run"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FUNNEL_OPERATOR__PEERING_NAME"] == "funnel-operator"
    assert deployment["spec"]["replicas"] == 2


def _leaf_keys_without_comment(text: str) -> list[str]:
    missing, lines = [], text.splitlines()
    free_form = {"requests", "limits", "labels"}  # data maps, described by their parent
    parents: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z_][\w.]*):(.*)$", line)
        if not match:
            continue
        indent, key, rest = len(match.group(1)), match.group(2), match.group(3).strip()
        while parents and parents[-1][0] >= indent:
            parents.pop()
        parent = parents[-1][1] if parents else ""
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if rest and parent not in free_form and not previous.startswith("#"):
            missing.append(key)
        parents.append((indent, key))
    return missing


def test_every_value_is_commented() -> None:
    assert _leaf_keys_without_comment((CHART / "values.yaml").read_text()) == []


def test_values_schema_covers_every_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(node: Any, sub: dict[str, Any], path: str) -> None:
        if isinstance(node, dict) and sub.get("additionalProperties") is False:
            for key, value in node.items():
                assert key in sub["properties"], f"{path}.{key} missing from values.schema.json"
                walk(value, sub["properties"][key], f"{path}.{key}")

    walk(values, schema, "")


def test_dashboards_are_grafana_json() -> None:
    for path in (CHART / "dashboards").glob("*.json"):
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"]
        assert dashboard["title"].startswith("Funnel")
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert panels
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids))
        for panel in panels:
            assert panel["targets"]
            assert all(t["expr"] for t in panel["targets"])


def test_rules_are_well_formed() -> None:
    groups = yaml.safe_load((CHART / "rules" / "funnel.rules.yaml").read_text())["groups"]
    alerts = [r for g in groups for r in g["rules"]]
    assert alerts
    for rule in alerts:
        assert rule["alert"].startswith("Funnel")
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def test_peering_crds_ship_in_the_chart_crds_folder() -> None:
    docs = [d for d in yaml.safe_load_all((CHART / "crds" / "kopf-peering.yaml").read_text()) if d]
    assert {d["spec"]["names"]["kind"] for d in docs} == {"ClusterKopfPeering", "KopfPeering"}
    for doc in docs:
        assert validate_k8s(copy.deepcopy(doc))
