"""skaffold.yaml against skaffold's own configuration schema (no skaffold binary exists here)."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from tests.k8s.schemas import ROOT

SCHEMA = ROOT.parent / "shared" / "schemas" / "skaffold-v4beta14.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    if not SCHEMA.exists():
        pytest.fail(f"{SCHEMA} is missing: CI lays shared/ beside the clone")
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def test_skaffold_yaml_validates(validator: jsonschema.Draft7Validator) -> None:
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    errors = sorted(validator.iter_errors(config), key=str)
    assert errors == []


def test_schema_catches_a_broken_config(validator: jsonschema.Draft7Validator) -> None:
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    config["deploy"]["helm"]["releases"][0]["chartPath"] = ["not", "a", "string"]
    assert list(validator.iter_errors(config))


def test_builds_every_deployable_and_deploys_the_chart() -> None:
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    images = {a["image"] for a in config["build"]["artifacts"]}
    assert images == {"funnel-api", "funnel-pipeline", "funnel-receiver", "funnel-operator"}
    for artifact in config["build"]["artifacts"]:
        assert (ROOT / artifact["docker"]["dockerfile"]).exists()
    (release,) = config["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"] / "Chart.yaml").exists()
    assert {p["name"] for p in config["profiles"]} == {"dev", "prod"}
