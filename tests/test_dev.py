"""``funnel dev`` end to end: a real start on embedded services, twice in one state directory."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import pytest
from aiokafka.client import AIOKafkaClient

from funnel.core.dev import _exit_status, _PortPlan
from funnel.core.devstack.process import free_port, tcp_ready

FUNNEL = Path(sys.executable).parent / "funnel"
START_TIMEOUT_S = 180


def _env(state_dir: Path) -> dict[str, str]:
    # Always the embedded database: this is the zero-configuration path, and a configured server
    # (someone's own development database) must not receive a test's demo seed. The runs also
    # start in tmp_path, out of reach of a developer's .env in the checkout.
    env = {k: v for k, v in os.environ.items() if k not in {"FUNNEL_DATABASE__URL", "DATABASE_URL"}}
    return {**env, "FUNNEL_STATE_DIR": str(state_dir)}


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has stopped; its parent just hasn't reaped it


def _pids(info: dict[str, Any]) -> list[int]:
    pids = [p["pid"] for p in info["processes"].values() if p["pid"]]
    pids += [info["services"]["kafka"]["pid"], info["services"]["sqs"]["pid"]]
    return pids


def _assert_complete(info: dict[str, Any]) -> None:
    assert set(info) >= {"processes", "services", "demo", "channel"}
    for name in ("sandbox", "api", "receiver", "bridge", "worker"):
        process = info["processes"][name]
        assert process["status"] in {"running", "not built yet"}, (name, process)
        assert Path(process["log"]).is_file()
        if process["status"] == "running":
            assert process["pid"], (name, process)
    assert all(info["demo"][k] for k in ("email", "password", "organisation_id"))
    channel = info["channel"]
    assert all(channel[k] for k in ("phone_number_id", "waba_id", "app_secret", "verify_token")), (
        channel
    )


@pytest.fixture
def dev_dir() -> Iterator[Path]:
    """A scratch directory outside pytest's ``/tmp/pytest-of-<user>``.

    The embedded PostgreSQL runs as its own OS user, so it needs the path to its data to stay
    traversable; every pytest session that starts (another suite on the machine, a test that runs
    pytest) resets ``pytest-of-<user>`` to mode 0700, which would cut the server off mid-test.
    """
    path = Path(tempfile.mkdtemp(prefix="funnel-dev-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.kafka
@pytest.mark.sqs
async def test_dev_starts_everything_and_stops_cleanly_on_sigint(dev_dir: Path) -> None:
    tmp_path = dev_dir
    state_dir = tmp_path / "state"
    port = free_port()

    # First run: start, report, stop by itself.
    first = await asyncio.create_subprocess_exec(
        str(FUNNEL),
        "dev",
        "--port",
        str(port),
        "--exit-after-start",
        env=_env(state_dir),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(first.communicate(), START_TIMEOUT_S)
    first_stdout = output.decode()
    assert first.returncode == 0, first_stdout
    first_info = json.loads((state_dir / "dev.json").read_text())
    _assert_complete(first_info)
    assert first_info["demo"]["email"] in first_stdout
    assert first_info["channel"]["verify_token"] in first_stdout
    assert not any(_alive(pid) for pid in _pids(first_info))

    # Second run in the same state directory: the database is reused and the seed is idempotent.
    (state_dir / "dev.json").unlink()
    log = (tmp_path / "second.log").open("w")
    second = await asyncio.create_subprocess_exec(
        str(FUNNEL),
        "dev",
        "--port",
        str(port),
        env=_env(state_dir),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (state_dir / "dev.json").exists():
            assert second.returncode is None, (tmp_path / "second.log").read_text()
            assert time.monotonic() < deadline, "funnel dev never wrote dev.json"
            await asyncio.sleep(0.2)
        info = json.loads((state_dir / "dev.json").read_text())
        _assert_complete(info)
        assert info["demo"] == first_info["demo"]
        assert info["channel"] == first_info["channel"]

        # The services it reports are really there, holding what it created.
        database_url = info["services"]["postgres"]["url"].replace("+asyncpg", "")
        connection = await asyncpg.connect(database_url)
        try:
            organisations = await connection.fetch(
                "SELECT slug FROM organisations WHERE id = $1::uuid",
                info["demo"]["organisation_id"],
            )
        finally:
            await connection.close()
        assert [r["slug"] for r in organisations] == [info["demo"]["organisation_slug"]]

        kafka = info["services"]["kafka"]
        client = AIOKafkaClient(bootstrap_servers=kafka["bootstrap_servers"])
        await client.bootstrap()
        try:
            await client.fetch_all_metadata()
            partitions = client.cluster.partitions_for_topic(kafka["inbound_topic"])
        finally:
            await client.close()
        assert partitions is not None
        assert len(partitions) == kafka["partitions"]

        sqs_info = info["services"]["sqs"]
        sqs = boto3.client(
            "sqs",
            endpoint_url=sqs_info["endpoint_url"],
            region_name=sqs_info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        attributes = sqs.get_queue_attributes(
            QueueUrl=sqs_info["queue_url"], AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        assert "maxReceiveCount" in attributes["RedrivePolicy"]

        pids = _pids(info)
        assert all(_alive(pid) for pid in pids)
        for name, process in info["processes"].items():
            if process["status"] == "running" and "url" in process:
                port_of = int(process["url"].rsplit(":", 1)[1])
                assert tcp_ready("127.0.0.1", port_of), name

        socket_dir = Path(database_url.rsplit("host=", 1)[1])
        assert list(socket_dir.glob(".s.PGSQL.*"))

        second.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(second.wait(), 60) == 0, (tmp_path / "second.log").read_text()
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
        log.close()
    assert "Stopped." in (tmp_path / "second.log").read_text()
    assert not any(_alive(pid) for pid in pids)
    assert not tcp_ready("127.0.0.1", int(kafka["bootstrap_servers"].rsplit(":", 1)[1]))
    # The embedded PostgreSQL stopped too: its Unix socket is gone.
    assert not list(socket_dir.glob(".s.PGSQL.*"))


def test_a_command_that_exits_2_is_not_built_yet_and_any_other_exit_is_a_failure(
    tmp_path: Path,
) -> None:
    log = tmp_path / "api.log"
    log.write_text("`funnel api serve` is not built yet (it arrives with the API capability).\n")
    assert _exit_status(2, log) == (
        "not built yet",
        "`funnel api serve` is not built yet (it arrives with the API capability).",
    )
    log.write_text("Traceback (most recent call last):\nRuntimeError: boom\n\n")
    assert _exit_status(1, log) == ("failed", "exit code 1: RuntimeError: boom")


def test_port_plan_skips_ports_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        plan = _PortPlan(port)
        first, second = plan.next(), plan.next()
    assert port < first < second
