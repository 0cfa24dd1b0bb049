"""Run the WhatsApp sandbox on a real loopback port, and a receiver stub to post webhooks to."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn

from funnel.core.devstack.process import free_port
from funnel.core.sandbox.app import create_sandbox_app
from funnel.core.sandbox.state import SandboxState
from funnel.core.sandbox.webhooks import WebhookConfig


@dataclass(frozen=True)
class RunningSandbox:
    url: str
    state: SandboxState


@contextlib.contextmanager
def serve_sandbox(
    state: SandboxState | None = None,
    *,
    tokens: dict[str, str] | None = None,
    webhook: WebhookConfig | None = None,
) -> Iterator[RunningSandbox]:
    """uvicorn in a background thread: the client talks real HTTP over loopback."""
    state = state or SandboxState()
    port = free_port()
    app = create_sandbox_app(state, tokens=tokens, webhook=webhook)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
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


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stub:
    url: str
    received: list[Received] = field(default_factory=list)


@contextlib.contextmanager
def receiver_stub(
    status: int = 200, on_post: Callable[[bytes], None] | None = None
) -> Iterator[Stub]:
    """A tiny HTTP receiver that keeps the exact bytes it was sent."""
    stub = Stub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stub.received.append(Received(self.path, dict(self.headers.items()), body))
            if on_post is not None:
                on_post(body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
