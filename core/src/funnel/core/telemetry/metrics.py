"""Prometheus metrics shared by every process, and the endpoint for processes without HTTP.

HTTP processes (api, receiver) mount :func:`metrics_asgi_app` at ``/metrics``; the bridge, the
worker and the operator call :func:`start_metrics_server`. Metric names are part of the
contract with the Grafana dashboards and alert rules under ``charts/``: rename with care.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

BUILD_INFO = Gauge(
    "funnel_build_info", "Always 1; labels say what is running.", ["service", "version"]
)
PROCESS_UP = Gauge("funnel_process_up", "1 while the process is serving.", ["service"])


def mark_up(service: str, version: str = "0.1.0") -> None:
    BUILD_INFO.labels(service=service, version=version).set(1)
    PROCESS_UP.labels(service=service).set(1)


def start_metrics_server(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped in-cluster
    if port:
        start_http_server(port, addr=host)


def render_latest() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def metrics_asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A tiny ASGI app serving the default registry, mountable in FastAPI or Starlette."""
    body, content_type = render_latest()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", content_type.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


__all__ = ["Counter", "Gauge", "Histogram", "mark_up", "metrics_asgi_app", "start_metrics_server"]
