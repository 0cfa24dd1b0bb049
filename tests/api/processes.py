"""Running the API as real processes, for tests that need more than one, or real HTTP."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from funnel.core.devstack.process import free_port

JWT_SECRET = "process-jwt-secret-0123456789abcdef"


@contextlib.contextmanager
def api_process(database_url: str, **extra_env: str) -> Iterator[str]:
    """`funnel api serve` as a child process on a free port; yields its URL once /readyz is 200."""
    port = free_port()
    env = {
        **os.environ,
        "FUNNEL_ENVIRONMENT": "test",
        "FUNNEL_DATABASE__URL": database_url,
        "FUNNEL_AUTH__JWT_SECRET": JWT_SECRET,
        "FUNNEL_OBSERVABILITY__LOG_LEVEL": "WARNING",
        **extra_env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "funnel.core.cli",
            "api",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                tail = process.stderr.read().decode()[-2000:] if process.stderr else ""
                raise RuntimeError(f"api exited: {tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("api did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
