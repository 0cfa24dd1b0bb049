"""The Prometheus endpoint every process exposes."""

from __future__ import annotations

import httpx

from funnel.core.telemetry.metrics import mark_up, metrics_asgi_app


async def test_metrics_endpoint_serves_the_registry() -> None:
    mark_up("test-service")
    transport = httpx.ASGITransport(app=metrics_asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'funnel_process_up{service="test-service"} 1.0' in response.text
