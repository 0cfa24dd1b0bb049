"""``/healthz`` (the process serves), ``/readyz`` (it can enqueue), ``/metrics`` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from funnel.core.telemetry.metrics import render_latest
from funnel.receiver.publisher import Publisher


def health_router(publisher: Publisher) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @router.get("/readyz")
    async def readyz() -> Response:
        # Not ready while SQS is unreachable: the load balancer then stops sending Meta's
        # deliveries here, and Meta's retries land on a replica that can enqueue them.
        if await publisher.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": "SQS unreachable"}, status_code=503)

    @router.get("/metrics")
    async def prometheus() -> Response:
        body, content_type = render_latest()
        return Response(body, media_type=content_type)

    return router
