"""Validation helpers shared by the Kubernetes tests: the CRD as JSON Schema, the API server's
defaulting, and ``kubernetes-validate`` for the built-in kinds."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "crds" / "funneltenant.yaml"
EXAMPLES = sorted((ROOT / "crds" / "examples").glob("*.yaml"))

#: The oldest Kubernetes minor we support and the newest kubernetes-validate ships.
K8S_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())

#: Kinds that are custom resources of other projects (no schema in kubernetes-validate).
CUSTOM_KINDS = {
    "ServiceMonitor",
    "PrometheusRule",
    "FunnelTenant",
    "ClusterKopfPeering",
    "KopfPeering",
}


@functools.cache
def load_crd() -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(CRD_PATH.read_text()) if d]
    assert len(docs) == 1
    crd: dict[str, Any] = docs[0]
    return crd


def openapi_schema() -> dict[str, Any]:
    schema: dict[str, Any] = load_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def to_json_schema(node: Any) -> Any:
    """The CRD's OpenAPI v3 subset as JSON Schema: drop the Kubernetes-only keywords."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key.startswith("x-kubernetes-") or key == "default":
                continue
            if key == "properties":
                result[key] = {name: to_json_schema(sub) for name, sub in value.items()}
            else:
                result[key] = to_json_schema(value)
        if node.get("nullable"):
            result.pop("nullable")
            result["type"] = [result["type"], "null"]
        return result
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    return node


def validate_tenant(obj: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when a FunnelTenant breaks the CRD's schema."""
    schema = to_json_schema(openapi_schema())
    # Structural schemas forbid unknown fields (the API server prunes them): say so to jsonschema.
    jsonschema.validate(obj, _closed(schema), cls=jsonschema.Draft7Validator)


def _closed(schema: Any) -> Any:
    if isinstance(schema, dict):
        schema = {k: _closed(v) for k, v in schema.items()}
        root_keys = {"apiVersion", "kind", "metadata", "spec", "status"}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and set(schema["properties"]) != root_keys
        ):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [_closed(s) for s in schema]
    return schema


def apply_defaults(schema: dict[str, Any], obj: Any) -> Any:
    """What the API server stores: the schema's defaults filled in, recursively."""
    if not isinstance(obj, dict) or schema.get("type") != "object":
        return obj
    result = copy.deepcopy(obj)
    for name, sub in schema.get("properties", {}).items():
        if name not in result and "default" in sub:
            result[name] = copy.deepcopy(sub["default"])
        if name in result:
            result[name] = apply_defaults(sub, result[name])
    return result


def load_examples() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in EXAMPLES]


def validate_k8s(obj: dict[str, Any]) -> list[str]:
    """Validate a built-in kind strictly against every supported version; return the versions
    checked (empty for a custom resource, which callers validate another way)."""
    if obj["kind"] in CUSTOM_KINDS:
        return []
    checked = []
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except SchemaNotFoundError as exc:  # pragma: no cover - a kind we forgot to list
            raise AssertionError(f"no schema for {obj['kind']} in {version}") from exc
        checked.append(version)
    return checked
