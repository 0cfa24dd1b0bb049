"""The operators' dashboard, served from ``frontend/dist`` under ``/app/``.

``funnel dev`` (and any API process) gives one address: ``/`` redirects to ``/app/``, files in
the build are served as they are (hashed assets cached for a year, ``index.html`` never), and
any other path under ``/app/`` answers ``index.html`` so the single-page app's router handles it.
The app lives under its own prefix because its pages share names with REST prefixes
(``/dashboard``, ``/settings``, ``/leads``): a reload on a page must never reach an API route.

Without a build (``npm run build`` in ``frontend/`` has not run) the API still starts, logs one
line, and ``/app/`` explains how to build it. These are plain Starlette routes, not API
routes: they carry no data and need no permission entry.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from funnel.core.telemetry import get_logger

log = get_logger(__name__)

PREFIX = "/app"
#: ``<repository>/frontend/dist`` (this file is ``api/src/funnel/api/frontend.py``).
DEFAULT_DIST = Path(__file__).resolve().parents[4] / "frontend" / "dist"

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Funnel: dashboard not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;
color:#1b2330}code,pre{background:#f1f3f5;border-radius:6px;padding:.1rem .3rem}
pre{padding:.8rem}</style></head>
<body><h1>The dashboard has not been built yet</h1>
<p>The API is running; the operators' web app is served from <code>frontend/dist</code>,
which does not exist. Build it once:</p>
<pre>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>then reload this page (no restart needed). For development with hot reload, run
<code>npm run dev</code> in <code>frontend/</code>: it proxies API calls here.</p>
</body></html>
"""


class SinglePageFiles(StaticFiles):
    """Static files with the single-page-app fallback and cache headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            response = None
        if response is None or response.status_code == 404:
            # A page path (/app/inbox/<id>): the app's router resolves it. A missing asset
            # (a stale hashed file after a deploy) stays a 404 rather than HTML.
            if path.startswith("assets/"):
                return Response("not found", status_code=404, media_type="text/plain")
            response = await super().get_response("index.html", scope)
        if path.startswith("assets/") and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "no-cache"
        return response


def _not_built(_: Request) -> Response:
    return HTMLResponse(_NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})


def _to_app(_: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def _lazy_files(dist: Path) -> Starlette:
    """``/app/…``: the build when it exists, the explanation until it does (checked per request,
    so a build made while the API runs is picked up on reload)."""

    files: SinglePageFiles | None = None

    async def endpoint(request: Request) -> Response:
        nonlocal files
        if files is None:
            if not (dist / "index.html").is_file():
                return _not_built(request)
            files = SinglePageFiles(directory=dist, html=True)
        return await files.get_response(request.path_params.get("path", ""), request.scope)

    return Starlette(
        routes=[
            Route("/", endpoint, methods=["GET", "HEAD"]),
            Route("/{path:path}", endpoint, methods=["GET", "HEAD"]),
        ]
    )


def mount_frontend(app: Starlette, dist: Path = DEFAULT_DIST) -> None:
    """Serve the dashboard at ``/app/`` and redirect ``/`` there."""
    if (dist / "index.html").is_file():
        log.info("api.frontend", extra={"dist": str(dist)})
    else:
        log.info(
            "api.frontend_not_built",
            extra={"dist": str(dist), "hint": "cd frontend && npm ci && npm run build"},
        )
    for path in ("/", PREFIX):
        app.router.routes.append(
            Route(path, _to_app, methods=["GET", "HEAD"], include_in_schema=False)
        )
    app.router.routes.append(Mount(PREFIX, app=_lazy_files(dist), name="frontend"))
