"""Fixtures for the operator suite: kmock as the API server, a client, the operator itself."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from funnel.core.settings import OperatorSettings
from funnel.operator.kube import Credentials, HttpKubeApi
from tests.operator.emulator import (
    FunnelEmulator,
    OperatorThread,
    declare_resources,
    running_operator,
    use_kubeconfig,
)


@pytest.fixture
def kmock_options() -> dict[str, Any]:
    return {"cls": FunnelEmulator}


@pytest.fixture
def operator_settings() -> OperatorSettings:
    # Short intervals: a test waits seconds, not the production minute, for a resync or retry.
    return OperatorSettings(standalone=True, resync_interval_s=1.0, retry_delay_s=0.5)


@pytest.fixture
async def cluster(
    kmock: FunnelEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> FunnelEmulator:
    declare_resources(kmock)
    use_kubeconfig(monkeypatch, str(kmock.url), tmp_path)
    return kmock


@pytest.fixture
async def api(cluster: FunnelEmulator) -> AsyncIterator[HttpKubeApi]:
    async def login() -> Credentials:
        return Credentials(server=str(cluster.url).rstrip("/"))

    client = HttpKubeApi(login)
    yield client
    await client.close()


@pytest.fixture
async def operator(
    cluster: FunnelEmulator, operator_settings: OperatorSettings, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[OperatorThread]:
    # Production logs at INFO: so must the tests, or a broken log call is never executed.
    caplog.set_level(logging.INFO, logger="funnel.operator")
    async with running_operator(operator_settings) as running:
        yield running
