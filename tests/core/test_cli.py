"""The one `funnel` CLI: every deployable's group is there, and unbuilt commands say so."""

from __future__ import annotations

import subprocess
import sys

import pytest

FUNNEL = [sys.executable, "-m", "funnel.core.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FUNNEL, *args], capture_output=True, text=True, timeout=60, check=False)


def test_help_lists_every_process_group() -> None:
    result = run("--help")
    assert result.returncode == 0
    for group in ("db", "dev", "api", "receiver", "pipeline", "operator"):
        assert group in result.stdout


@pytest.mark.parametrize("group", ["db", "api", "receiver", "pipeline", "operator"])
def test_each_group_has_help(group: str) -> None:
    result = run(group, "--help")
    assert result.returncode == 0, result.stderr


def test_db_without_a_database_explains_what_to_set(tmp_path: object) -> None:
    result = subprocess.run(
        [*FUNNEL, "db", "current"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=str(tmp_path),
        env={"PATH": "/usr/bin:/bin", "FUNNEL_DATABASE__URL": ""},
    )
    assert result.returncode == 2
    assert "FUNNEL_DATABASE__URL" in result.stderr
