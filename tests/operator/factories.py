"""FunnelTenant bodies for the operator tests, built from the example manifests in crds/."""

from __future__ import annotations

import copy
from typing import Any

from funnel.operator.spec import Tenant
from tests.k8s.schemas import EXAMPLES, load_examples


def example(name: str, *, uid: str = "0b7c8f2e-0000-4000-8000-000000000001") -> dict[str, Any]:
    for path, body in zip(EXAMPLES, load_examples(), strict=True):
        if path.stem == name:
            body = copy.deepcopy(body)
            body["metadata"]["uid"] = uid
            return body
    raise KeyError(name)


def tenant(name: str) -> Tenant:
    return Tenant.from_body(example(name))


def secrets_for(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Secrets with every key the example references (base64 of short, JSON-safe values)."""
    spec = body["spec"]
    ns = body["metadata"]["namespace"]
    wanted: dict[str, set[str]] = {}
    wa = spec["whatsapp"]["secretRef"]
    wanted.setdefault(wa["name"], set()).update(
        {wa.get("accessTokenKey", "access-token"), wa.get("verifyTokenKey", "verify-token")}
        | set(wa.get("appSecretKeys", ["app-secret"]))
    )
    if "apiKeySecretRef" in spec.get("llm", {}):
        ref = spec["llm"]["apiKeySecretRef"]
        wanted.setdefault(ref["name"], set()).add(ref.get("key", "api-key"))
    db = spec["database"]["urlSecretRef"]
    wanted.setdefault(db["name"], set()).add(db.get("key", "url"))
    if "credentialsSecretRef" in spec["sqs"]:
        ref = spec["sqs"]["credentialsSecretRef"]
        wanted.setdefault(ref["name"], set()).update({"access-key-id", "secret-access-key"})
    auth = spec["auth"]["secretRef"]
    wanted.setdefault(auth["name"], set()).update(
        {"jwt-secret", "service-token", "encryption-keys"}
    )
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "type": "Opaque",
            "data": {key: "dmFsdWU=" for key in sorted(keys)},  # "value"
        }
        for name, keys in sorted(wanted.items())
    ]
