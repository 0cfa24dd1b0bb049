"""The app's shared machinery: correlation ids, metrics by route template, CORS, health,
API keys, the platform listing, and row-level security on the request's session."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from funnel.api.app import create_app
from funnel.api.deps import Credentials, authenticate
from funnel.core.models import ApiKey, User
from funnel.core.settings import AuthSettings, Settings
from tests.api.conftest import Tenant, make_settings


async def test_correlation_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Correlation-Id": "abc-123"})
    assert echoed.headers["X-Correlation-Id"] == "abc-123"
    minted = await client.get("/healthz", headers={"X-Correlation-Id": "bad value\nwith newline"})
    assert minted.headers["X-Correlation-Id"] != "bad value\nwith newline"
    assert len(minted.headers["X-Correlation-Id"]) == 32


async def test_errors_have_one_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/users")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_metrics_label_requests_by_route_template(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    missing = uuid.uuid4()
    assert (await client.get(f"/users/{missing}", headers=tenant.owner.headers)).status_code == 404
    text = (await client.get("/metrics")).text
    assert 'route="/users/{user_id}"' in text
    assert str(missing) not in text
    assert 'funnel_api_requests_total{method="GET",route="/users/{user_id}",status="404"}' in text


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}


@pytest.fixture
def api_settings(database_url: str) -> Settings:
    base = make_settings(database_url)
    auth = AuthSettings(
        **{
            **base.auth.model_dump(),
            "cors_origins": ["https://app.funnel.example", "*"],
        }
    )
    return base.model_copy(update={"auth": auth})


async def test_cors_allows_configured_origins_only_and_never_a_wildcard(
    client: httpx.AsyncClient,
) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await client.options(
        "/auth/login", headers={"Origin": "https://app.funnel.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.funnel.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    refused = await client.options(
        "/auth/login", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_api_keys_authenticate_and_are_refused_where_no_scope_opens_the_route(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    created = await client.post(
        "/settings/api-keys",
        json={"name": "crm", "scopes": ["leads:read"]},
        headers=tenant.owner.headers,
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("fnl_")
    listed = await client.get("/settings/api-keys", headers=tenant.owner.headers)
    assert key not in listed.text
    assert [k["prefix"] for k in listed.json()] == [created.json()["prefix"]]
    # Authenticated (not 401), but no route here names a scope it holds: 403.
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-Api-Key": key}):
        response = await client.get("/users", headers=headers)
        assert response.status_code == 403, response.text
    async with api_app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.update(ApiKey)
            .where(ApiKey.organisation_id == tenant.organisation_id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        await session.commit()
    assert (await client.get("/users", headers={"X-Api-Key": key})).status_code == 401
    assert (await client.get("/users", headers={"X-Api-Key": "fnl_0000_forged"})).status_code == 401


async def test_platform_listing_is_for_platform_admins_and_paginates(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, api_app: FastAPI
) -> None:
    assert (await client.get("/organisations", headers=tenant.owner.headers)).status_code == 403
    async with api_app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.update(User).where(User.id == tenant.owner.user_id).values(is_platform_admin=True)
        )
        await session.commit()
    first = await client.get("/organisations?limit=1", headers=tenant.owner.headers)
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    second = await client.get(
        f"/organisations?limit=1&cursor={page['next_cursor']}", headers=tenant.owner.headers
    )
    slugs = {page["items"][0]["slug"], second.json()["items"][0]["slug"]}
    assert slugs == {tenant.slug, other_tenant.slug}
    bad = await client.get("/organisations?cursor=not-a-cursor", headers=tenant.owner.headers)
    assert bad.status_code == 422


async def test_authenticating_turns_row_level_security_on(
    api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    resources = api_app.state.resources
    async with resources.sessionmaker() as session:
        await authenticate(session, resources, Credentials("jwt", tenant.owner.access_token))
        role = (await session.execute(sa.text("SELECT current_user"))).scalar_one()
        assert role == "funnel_tenant"
        # Even SQL that forgets the tenant filter sees one organisation only.
        slugs = (await session.execute(sa.text("SELECT slug FROM organisations"))).scalars().all()
        assert slugs == [tenant.slug]
        await session.rollback()


async def test_cors_is_off_without_configuration(database_url: str) -> None:
    app = create_app(make_settings(database_url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            response = await c.get("/healthz", headers={"Origin": "https://app.funnel.example"})
    assert "access-control-allow-origin" not in response.headers
