"""The API serves the built dashboard under /app/ with a single-page-app fallback, and still
starts (explaining how to build it) when there is no build."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from funnel.api.frontend import mount_frontend


def _app(dist: Path) -> FastAPI:
    app = FastAPI()

    @app.get("/dashboard")
    async def dashboard() -> dict[str, str]:
        return {"api": "dashboard"}

    mount_frontend(app, dist)
    return app


def _build(dist: Path) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")


def test_pages_get_index_html_and_assets_are_cached(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _build(dist)
    client = TestClient(_app(dist))

    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307
    assert root.headers["location"] == "/app/"

    for page in ("/app/", "/app/inbox", "/app/inbox/0b6f6f9e-1111-4e1e-9c55-000000000000"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "<div id=root>" in response.text
        assert response.headers["cache-control"] == "no-cache"

    asset = client.get("/app/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]

    # A stale asset is a 404, not the page (a browser would try to run HTML as JavaScript).
    assert client.get("/app/assets/index-gone.js").status_code == 404
    # API routes keep their paths: the app's /dashboard page lives at /app/dashboard.
    assert client.get("/dashboard").json() == {"api": "dashboard"}
    assert client.post("/app/inbox").status_code == 405


def test_without_a_build_the_api_starts_and_explains(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    client = TestClient(_app(dist))
    response = client.get("/app/inbox")
    assert response.status_code == 503
    assert "npm run build" in response.text
    assert client.get("/dashboard").status_code == 200

    # Built while the API runs: picked up without a restart.
    _build(dist)
    assert "<div id=root>" in client.get("/app/inbox").text


def test_the_api_serves_the_build_its_settings_name(tmp_path: Path) -> None:
    """An image copies the build somewhere else and sets FUNNEL_FRONTEND_DIST to it."""
    from funnel.api.app import create_app
    from tests.api.conftest import make_settings

    dist = tmp_path / "elsewhere"
    _build(dist)
    (dist / "index.html").write_text("<!doctype html><p>the image's build</p>")
    settings = make_settings("postgresql+asyncpg://unused@127.0.0.1:1/unused").model_copy(
        update={"frontend_dist": dist}
    )
    # No lifespan (no `with`): the database is never touched, only the routes are.
    client = TestClient(create_app(settings))
    assert "the image's build" in client.get("/app/inbox").text
