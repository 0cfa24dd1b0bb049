"""Running the platform's processes for end-to-end tests: ASGI apps on loopback threads, worker
subprocesses configured through the environment exactly as a deployment configures them."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from funnel.core.devstack.process import ManagedProcess, free_port
from funnel.core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir(name: str) -> Path:
    """``test-artifacts/<name>/`` at the repository root (ignored by git), emptied first."""
    path = REPO_ROOT / "test-artifacts" / name
    if path.exists():
        for child in path.iterdir():
            child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def serve_app(app: Any, *, name: str = "app", lifespan: str = "on") -> Iterator[str]:
    """uvicorn in a background thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``FUNNEL_*`` variables that reproduce ``settings`` in a child process."""
    env: dict[str, str] = {
        "FUNNEL_ENVIRONMENT": settings.environment.value,
        "FUNNEL_DATABASE__URL": settings.database.url.get_secret_value(),
        "FUNNEL_DATABASE__POOL_SIZE": str(settings.database.pool_size),
        "FUNNEL_DATABASE__MAX_OVERFLOW": str(settings.database.max_overflow),
        "FUNNEL_AUTH__ENCRYPTION_KEYS": ",".join(
            k.get_secret_value() for k in settings.auth.encryption_keys
        ),
        "FUNNEL_WHATSAPP__GRAPH_BASE_URL": settings.whatsapp.graph_base_url,
        "FUNNEL_OBSERVABILITY__METRICS_PORT": "0",
        "FUNNEL_OBSERVABILITY__LOG_LEVEL": "INFO",
    }
    for key, value in settings.kafka.model_dump().items():
        env[f"FUNNEL_KAFKA__{key.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    for key, value in settings.worker.model_dump().items():
        env[f"FUNNEL_WORKER__{key.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


def worker_process(
    settings: Settings, log_file: Path, *, pipeline: str = "tests.pipeline.support:EchoPipeline"
) -> ManagedProcess:
    """``funnel pipeline worker`` as its own process, as Kubernetes would run it."""
    env = {
        **settings_env(settings),
        "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    return ManagedProcess(
        "worker",
        [sys.executable, "-m", "funnel.core.cli", "pipeline", "worker", "--pipeline", pipeline],
        log_file=log_file,
        env=env,
        cwd=REPO_ROOT,
    )


def signed(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}
