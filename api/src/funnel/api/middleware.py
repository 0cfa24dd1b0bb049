"""Pure ASGI middleware: correlation ids and request metrics.

Pure ASGI rather than ``BaseHTTPMiddleware``: it does not buffer streamed responses (CSV export)
and does not break websockets (GraphQL subscriptions).
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from funnel.core.telemetry import bind_context, new_correlation_id
from funnel.core.telemetry.metrics import Counter, Histogram

CORRELATION_HEADER = b"x-correlation-id"
SCOPE_KEY = "funnel.correlation_id"
#: A caller's id is reused only when it looks like one: it ends up in every log line.
_VALID_CORRELATION = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")

REQUEST_SECONDS = Histogram(
    "funnel_api_request_duration_seconds",
    "API request latency by route template (never the raw path: ids would explode the series).",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUESTS = Counter(
    "funnel_api_requests_total",
    "API requests by route template and status.",
    ["method", "route", "status"],
)
UNMATCHED_ROUTE = "<unmatched>"


class CorrelationIdMiddleware:
    """Takes ``X-Correlation-Id`` from the request (or mints one), binds it to every log line
    written while the request runs, and returns it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = dict(scope.get("headers") or []).get(CORRELATION_HEADER)
        cid = (
            supplied.decode()
            if supplied is not None and _VALID_CORRELATION.match(supplied)
            else new_correlation_id()
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((CORRELATION_HEADER, cid.encode()))
                message["headers"] = headers
            await send(message)

        # Also in the scope: the 500 handler runs outside this middleware (in Starlette's
        # ServerErrorMiddleware), where the context variable is no longer bound.
        scope[SCOPE_KEY] = cid
        with bind_context(cid):
            await self.app(scope, receive, send_with_id)


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else UNMATCHED_ROUTE


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            # The router writes the matched route into the scope it was given, which is this
            # one: the template is known only after the app ran.
            route = route_template(scope)
            if route != "/metrics":
                method = scope.get("method", "GET")
                REQUEST_SECONDS.labels(method=method, route=route).observe(
                    time.perf_counter() - started
                )
                REQUESTS.labels(method=method, route=route, status=str(status)).inc()
