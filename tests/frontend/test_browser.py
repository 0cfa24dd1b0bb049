"""The dashboard end to end, in a real browser, against the real platform.

One ``funnel dev`` for the module (API serving the built app, receiver, bridge, worker, sandbox,
offline LLM, embedded PostgreSQL, Kafka and SQS), then each ``frontend/e2e/*.test.mjs`` file runs
under Node's test runner, driving Debian's Chromium through ``playwright-core``. Screenshots of
each page land in ``test-artifacts/screenshots/``.

Needs Node 20 and ``/usr/bin/chromium`` (``apt-get install chromium``). Outside CI a machine
without them skips these tests and says why; in CI (``CI`` set) their absence is a failure.
The frontend is built first when ``frontend/dist`` is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from funnel.core.devstack.process import free_port
from funnel.core.simulate import run_simulate

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
FUNNEL = Path(sys.executable).parent / "funnel"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SPECS = sorted(p.name.removesuffix(".test.mjs") for p in (FRONTEND / "e2e").glob("*.test.mjs"))
START_TIMEOUT_S = 180
SPEC_TIMEOUT_S = 300
#: In the fictional 555-01xx range.
WARM_UP_NUMBER = "15550100999"

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.kafka, pytest.mark.sqs]


def _missing_tools() -> list[str]:
    missing = []
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing.append("Node.js (node, npm)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    return missing


def _run(args: list[str], timeout: float) -> None:
    result = subprocess.run(
        args, cwd=FRONTEND, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def frontend_built() -> None:
    missing = _missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need {', '.join(missing)}")
        pytest.skip(f"browser tests need {', '.join(missing)}")
    if not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        _run(["npm", "ci", "--no-audit", "--no-fund"], timeout=600)
    if not (FRONTEND / "dist" / "index.html").is_file():
        _run(["npm", "run", "build"], timeout=600)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback http
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def dev_json(frontend_built: None) -> Iterator[Path]:
    """``funnel dev`` in a scratch directory; yields its ``dev.json``.

    The scratch directory is outside pytest's ``/tmp/pytest-of-<user>`` (the embedded
    PostgreSQL runs as its own OS user and needs the path to stay traversable; see
    tests/README.md, "Traps").
    """
    root = Path(tempfile.mkdtemp(prefix="funnel-browser-test-"))
    state_dir = root / "state"
    env = {k: v for k, v in os.environ.items() if k not in {"FUNNEL_DATABASE__URL", "DATABASE_URL"}}
    env["FUNNEL_STATE_DIR"] = str(state_dir)
    log_path = root / "dev.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(FUNNEL), "dev", "--port", str(free_port())],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        info_path = state_dir / "dev.json"
        while not info_path.exists():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "funnel dev never wrote dev.json"
            time.sleep(0.25)
        api = json.loads(info_path.read_text())["processes"]["api"]["url"].rstrip("/")
        while not _ready(f"{api}/readyz"):
            assert time.monotonic() < deadline, "API not ready: " + log_path.read_text()
            time.sleep(0.25)
        # Warm up the whole path (receiver, SQS, bridge, Kafka group join, worker, sandbox) with
        # one customer message, so the first test file does not pay for it inside its timeouts.
        answered = run_simulate(
            wa_id=WARM_UP_NUMBER,
            text="hello",
            name="Warm-up",
            state_dir=state_dir,
            wait=True,
            timeout_s=START_TIMEOUT_S,
        )
        assert answered == 0, "no reply to a first message: " + log_path.read_text()
        yield info_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(START_TIMEOUT_S + SPEC_TIMEOUT_S + 600)
@pytest.mark.parametrize("spec", SPECS)
def test_dashboard_in_a_browser(spec: str, dev_json: Path) -> None:
    """Runs ``frontend/e2e/<spec>.test.mjs``; its output (one line per scenario) on failure."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FUNNEL_E2E_DEV_JSON": str(dev_json),
        "FUNNEL_E2E_SCREENSHOTS": str(SCREENSHOTS),
        "CHROMIUM": str(CHROMIUM),
        # For the steps no API offers (tests/frontend/dbtool.py).
        "FUNNEL_E2E_PYTHON": sys.executable,
        "NO_COLOR": "1",
    }
    # No second attempt: the intermittent session loss that once asked for one was the API
    # committing after its answer (see tests/api/test_commit_before_answer.py).
    result = subprocess.run(
        ["node", "--test", "--test-concurrency=1", "--test-reporter=spec", f"e2e/{spec}.test.mjs"],
        cwd=FRONTEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=SPEC_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"{spec} failed:\n{result.stdout}\n{result.stderr}\n{_platform_side(dev_json)}"
    )


def _platform_side(dev_json: Path) -> str:
    """What ``funnel dev`` logged about authentication and failed requests: a page that loses its
    session shows up here (refresh-token reuse, 401s), not in the browser's output."""
    log = dev_json.parent.parent / "dev.log"
    if not log.is_file():
        return "(no funnel dev log)"
    wanted = ("auth.", " 401", " 403", " 429", " 500", "ERROR", "Traceback")
    text = log.read_text(errors="replace")
    lines = [line for line in text.splitlines() if any(w in line for w in wanted)]
    return "funnel dev, authentication and failures (last 60):\n" + "\n".join(lines[-60:])
