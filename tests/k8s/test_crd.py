"""The FunnelTenant CRD: structurally valid, complete, and in agreement with the operator."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from funnel.operator.spec import API_VERSION, GROUP, KIND, PLURAL, Tenant, TenantSpec
from tests.k8s.schemas import (
    EXAMPLES,
    apply_defaults,
    load_crd,
    load_examples,
    openapi_schema,
    validate_k8s,
    validate_tenant,
)


def test_crd_passes_kubernetes_validate_strict() -> None:
    assert len(validate_k8s(load_crd())) == 2


def test_crd_identity_and_kubectl_ergonomics() -> None:
    crd = load_crd()
    spec = crd["spec"]
    assert crd["metadata"]["name"] == f"{PLURAL}.{GROUP}"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == KIND
    assert "ft" in spec["names"]["shortNames"]
    assert spec["names"]["categories"] == ["funnel"]
    (version,) = spec["versions"]
    assert f"{spec['group']}/{version['name']}" == API_VERSION
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns == ["Organisation", "Phase", "Ready", "Workers", "Age"]
    assert version["subresources"]["status"] == {}
    assert version["subresources"]["scale"]["specReplicasPath"] == ".spec.worker.replicas"


def _rules(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        found += [r["rule"] for r in node.get("x-kubernetes-validations", [])]
        for value in node.values():
            found += _rules(value)
    elif isinstance(node, list):
        for value in node:
            found += _rules(value)
    return found


def test_cel_rules_guard_replicas_and_the_organisation_id() -> None:
    schema = openapi_schema()
    rules = _rules(schema)
    assert rules.count("self.minReplicas <= self.maxReplicas") == 4
    org_id = schema["properties"]["spec"]["properties"]["organisation"]["properties"]["id"]
    assert [r["rule"] for r in org_id["x-kubernetes-validations"]] == ["self == oldSelf"]


def _descriptions_missing(node: dict[str, Any], path: str) -> list[str]:
    missing = []
    for name, sub in node.get("properties", {}).items():
        if name in {"apiVersion", "kind", "metadata"}:
            continue
        if not sub.get("description"):
            missing.append(f"{path}.{name}")
        missing += _descriptions_missing(sub, f"{path}.{name}")
    if "items" in node:
        missing += _descriptions_missing(node["items"], f"{path}[]")
    return missing


def test_every_field_is_described() -> None:
    assert _descriptions_missing(openapi_schema(), "") == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate_against_the_crd_schema(example: Any) -> None:
    import yaml

    validate_tenant(yaml.safe_load(example.read_text()))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s["organisation"].pop("id"), "id"),
        (lambda s: s["organisation"].update(slug="Not_A_Label"), "slug"),
        (lambda s: s["kafka"].update(partitions=0), "partitions"),
        (lambda s: s["worker"].update(replicas=-1), "replicas"),
        (lambda s: s.update(unknownField=True), "unknownField"),
        (lambda s: s["llm"].update(provider="openai"), "provider"),
    ],
)
def test_schema_rejects_bad_specs(mutate: Any, field: str) -> None:
    tenant = copy.deepcopy(load_examples()[0])
    tenant["spec"].setdefault("worker", {})
    mutate(tenant["spec"])
    with pytest.raises(jsonschema.ValidationError) as caught:
        validate_tenant(tenant)
    assert field in str(caught.value)


@pytest.mark.parametrize("example", load_examples(), ids=[p.name for p in EXAMPLES])
def test_operator_defaults_equal_the_crd_defaults(example: dict[str, Any]) -> None:
    """The operator reads a spec the same with or without the API server's defaulting."""
    schema = openapi_schema()["properties"]["spec"]
    example = {**example, "metadata": {**example["metadata"], "uid": "u"}}
    as_written = Tenant.from_body(example).spec
    defaulted = TenantSpec.model_validate(apply_defaults(schema, example["spec"]))
    assert as_written == defaulted
