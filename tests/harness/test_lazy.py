"""Service fixtures start only when asked for.

Session fixtures outlive the test that first used them, so laziness cannot be observed from
inside this suite: a later test would see whatever an earlier one started. Instead, run a small
suite in a fresh pytest process and let it inspect its own child processes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

INNER_SUITE = """
from pathlib import Path
import os


def children() -> set[int]:
    me = os.getpid()
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found.add(int(stat.parent.name))
    return found


def test_a_without_service_fixtures():
    assert children() == set()


def test_b_with_service_fixtures(kafka_broker, moto_server):
    # Also proves children() sees the services, so the assertion above can fail.
    assert {kafka_broker.pid, moto_server.pid} <= children()
"""


@pytest.mark.slow
def test_a_test_without_service_fixtures_starts_no_service(tmp_path: Path) -> None:
    suite = tmp_path / "test_inner.py"
    suite.write_text(INNER_SUITE)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.fixtures.kafka",
            "-p",
            "tests.fixtures.sqs",
            "--rootdir",
            str(tmp_path),
            "-c",
            str(REPO / "pyproject.toml"),
            # An explicit basetemp: a session that picks its own resets /tmp/pytest-of-<user> to
            # mode 0700, cutting off the embedded PostgreSQL (its own OS user) of the outer run.
            "--basetemp",
            str(tmp_path / "basetemp"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
