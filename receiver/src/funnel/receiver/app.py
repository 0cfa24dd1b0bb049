"""The receiver's ASGI app, shared by ``funnel receiver serve`` and the Lambda entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from funnel.core.settings import Settings
from funnel.core.telemetry import get_logger
from funnel.core.telemetry.metrics import mark_up
from funnel.receiver.health import health_router
from funnel.receiver.publisher import Publisher, SqsPublisher
from funnel.receiver.webhook import WebhookHandler, webhook_router

log = get_logger("funnel.receiver")


def create_app(settings: Settings, publisher: Publisher | None = None) -> FastAPI:
    """The app; ``publisher`` defaults to SQS from ``settings.sqs`` (tests and benches pass one)."""
    publisher = publisher or SqsPublisher(settings.sqs)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await publisher.start()
        mark_up("receiver")
        log.info(
            "receiver.started",
            extra={"channels": [c.phone_number_id for c in settings.whatsapp.channels]},
        )
        try:
            yield
        finally:
            # Requests still waiting for SQS get their answer before the client closes.
            await publisher.stop()
            log.info("receiver.stopped")

    # No OpenAPI pages: this app faces the internet and only Meta should talk to it.
    app = FastAPI(
        title="Funnel receiver", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.include_router(webhook_router(WebhookHandler(settings, publisher)))
    app.include_router(health_router(publisher))
    return app
