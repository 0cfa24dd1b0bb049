"""The API application: ``create_app(settings)``.

Mounted: every router module in :mod:`funnel.api.routers` (discovered), GraphQL at ``/graphql``,
``/healthz`` (process up), ``/readyz`` (database reachable), ``/metrics`` (Prometheus), and the
OpenAPI docs at ``/docs`` outside production.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.api.deps import ResourcesDep
from funnel.api.errors import install_error_handlers
from funnel.api.frontend import DEFAULT_DIST, mount_frontend
from funnel.api.graphql.context import get_context
from funnel.api.graphql.router import FunnelGraphQLRouter
from funnel.api.graphql.schema import build_schema
from funnel.api.middleware import CorrelationIdMiddleware, MetricsMiddleware
from funnel.api.permissions import APP_PERMISSIONS, Access
from funnel.api.resources import Resources
from funnel.api.routers import discover
from funnel.core.auth.throttle import LoginThrottle, ThrottlePolicy
from funnel.core.db.engine import create_engine, session_factory
from funnel.core.events.listener import EventHub
from funnel.core.security.crypto import SecretBox
from funnel.core.settings import Environment, Settings, get_settings
from funnel.core.telemetry import get_logger
from funnel.core.telemetry.metrics import mark_up, render_latest
from funnel.core.whatsapp.http import graph_http_client

log = get_logger(__name__)

SERVICE = "api"


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    throttle_policy: ThrottlePolicy | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    production = settings.environment is Environment.PRODUCTION

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        db_engine = engine or create_engine(settings.database, application_name="funnel-api")
        hub = EventHub(settings.database.url.get_secret_value())
        http = graph_http_client(settings.whatsapp)
        sessions = session_factory(db_engine)
        app.state.resources = Resources(
            settings=settings,
            engine=db_engine,
            sessionmaker=sessions,
            http=http,
            secret_box=SecretBox.from_settings(settings.auth),
            # Counters in the database, shared with every other replica.
            throttle=LoginThrottle(sessions, throttle_policy),
            events=hub,
        )
        await hub.start()
        mark_up(SERVICE)
        # Everything alive now (modules, the GraphQL schema, SQLAlchemy metadata: ~250,000
        # objects) lives as long as the process: keep it out of the cyclic collector's full
        # passes, which otherwise walked it every few dozen requests (140-180 ms each, measured
        # as the inbox's p99) instead of 8-10 ms.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await hub.stop()
            await http.aclose()
            if own_engine:
                await db_engine.dispose()

    app = FastAPI(
        title="Funnel API",
        version="0.1.0",
        description="REST API of Funnel. GraphQL is served at /graphql (SDL: api/schema.graphql).",
        lifespan=lifespan,
        docs_url=None if production else "/docs",
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",
    )
    permissions: dict[str, Access] = dict(APP_PERMISSIONS)
    for router, table in discover(production=production):
        app.include_router(router)
        permissions.update(table)
    app.state.permissions = permissions

    graphql = FunnelGraphQLRouter(
        build_schema(introspection=not production),
        # The path on the router itself (not an include prefix), so the matched route's
        # template, which metrics label requests with, is "/graphql".
        path="/graphql",
        context_getter=get_context,
        graphql_ide=None if production else "graphiql",
        # GET queries would put operations (and their variables) into URLs and access logs.
        allow_queries_via_get=False,
    )
    app.include_router(graphql, include_in_schema=False)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(resources: ResourcesDep) -> JSONResponse:
        try:
            async with resources.engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception as exc:
            log.warning("api.not_ready", extra={"error_type": type(exc).__name__})
            return JSONResponse({"status": "unavailable"}, status_code=503)
        # A replica that cannot LISTEN would accept subscriptions and never deliver them.
        if not resources.events.listening.is_set():
            return JSONResponse({"status": "events listener not connected"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = render_latest()
        return Response(body, media_type=content_type)

    # Last: the dashboard's /app/ prefix and the / redirect go after every API route.
    mount_frontend(app, settings.frontend_dist or DEFAULT_DIST)
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    if settings.auth.cors_origins:
        origins = [o for o in settings.auth.cors_origins if o != "*"]
        # Credentials never go with a wildcard: a configured "*" is dropped, not honoured.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Api-Key", "X-Correlation-Id"],
            expose_headers=["X-Correlation-Id", "Retry-After"],
        )
    # Outermost: the correlation id is bound for everything below, errors included.
    app.add_middleware(CorrelationIdMiddleware)
    return app
