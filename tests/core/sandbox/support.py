"""Run the WhatsApp sandbox on a real loopback port for the duration of a test."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from funnel.core.devstack.process import free_port
from funnel.core.sandbox.app import create_sandbox_app
from funnel.core.sandbox.state import SandboxState


@dataclass(frozen=True)
class RunningSandbox:
    url: str
    state: SandboxState


@contextlib.contextmanager
def serve_sandbox(
    state: SandboxState | None = None, *, tokens: dict[str, str] | None = None
) -> Iterator[RunningSandbox]:
    """uvicorn in a background thread: the client talks real HTTP over loopback."""
    state = state or SandboxState()
    port = free_port()
    app = create_sandbox_app(state, tokens=tokens)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.01)
    try:
        yield RunningSandbox(url=f"http://127.0.0.1:{port}", state=state)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
