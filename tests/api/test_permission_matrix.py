"""The role matrix, generated from the routes and the declared permission table.

Every route must have an entry in its router module's ``PERMISSIONS`` (a new route without one
fails here), and every entry is checked against the running app: anonymous callers get 401,
roles below the declared level 403, the declared level gets through (any status but 401/403),
API keys only where the entry names a scope.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from funnel.api.permissions import Access, Level
from funnel.core.auth.schemas import API_KEY_SCOPES
from tests.api.conftest import Tenant

ROLES = ["viewer", "agent", "admin", "owner"]
RANK = {Level.USER: 0, Level.VIEWER: 0, Level.AGENT: 1, Level.ADMIN: 2, Level.OWNER: 3}
#: App-level routes outside any router module (served by FastAPI/Starlette themselves).
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect"}


def route_keys(app: FastAPI) -> list[str]:
    keys = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIWebSocketRoute) or context.path in FRAMEWORK:
            continue
        if isinstance(route, APIRoute):
            keys += [f"{method} {context.path}" for method in sorted(route.methods)]
    return keys


def test_every_route_is_in_the_permission_table(api_app_unstarted: FastAPI) -> None:
    table: dict[str, Access] = api_app_unstarted.state.permissions
    keys = route_keys(api_app_unstarted)
    missing = sorted(set(keys) - set(table))
    assert not missing, f"routes without a PERMISSIONS entry: {missing}"
    stale = sorted(set(table) - set(keys))
    assert not stale, f"PERMISSIONS entries without a route: {stale}"


@pytest.fixture
def api_app_unstarted(api_settings: object) -> FastAPI:
    from funnel.api.app import create_app

    return create_app(api_settings)  # type: ignore[arg-type]


def concrete(path: str) -> str:
    # Any id: the matrix is about who gets past authorisation, not about the object.
    parts = path.split("/")
    return "/".join(str(uuid.uuid4()) if p.startswith("{") else p for p in parts)


async def call(client: httpx.AsyncClient, key: str, headers: dict[str, str]) -> int:
    method, path = key.split(" ", 1)
    kwargs: dict[str, object] = {"headers": headers}
    if method in ("POST", "PATCH", "PUT"):
        kwargs["json"] = {}
    response = await client.request(method, concrete(path), **kwargs)  # type: ignore[arg-type]
    return response.status_code


async def test_role_matrix(client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant) -> None:
    table: dict[str, Access] = api_app.state.permissions
    members = {role: await tenant.member(role) for role in ROLES}
    key_response = await client.post(
        "/settings/api-keys",
        json={"name": "matrix", "scopes": sorted(API_KEY_SCOPES)},
        headers=tenant.owner.headers,
    )
    api_key = {"Authorization": f"Bearer {key_response.json()['key']}"}
    failures: list[str] = []
    # Session-ending routes last, so they do not log the matrix's users out mid-run.
    ordered = sorted(table.items(), key=lambda kv: kv[0].endswith(("/logout", "/change-password")))
    for key, access in ordered:
        if access.level is Level.PUBLIC or key.endswith(("/logout", "/change-password")):
            continue
        anonymous = await call(client, key, {})
        if anonymous != 401:
            failures.append(f"{key}: anonymous got {anonymous}, expected 401")
        for role in ROLES:
            status = await call(client, key, members[role].headers)
            if access.level in RANK:
                allowed = RANK[members_rank(role)] >= RANK[access.level]
            else:
                allowed = False  # platform admin and service: no tenant role is enough
            expected_denial = 401 if access.level is Level.SERVICE else 403
            if allowed and status in (401, 403):
                failures.append(f"{key}: {role} got {status}, should be allowed")
            if not allowed and status != expected_denial:
                failures.append(f"{key}: {role} got {status}, expected {expected_denial}")
        status = await call(client, key, api_key)
        if access.api_key_scope is None and status not in (401, 403):
            failures.append(f"{key}: an API key got {status}, expected a refusal")
        if access.api_key_scope is not None and status in (401, 403):
            failures.append(f"{key}: an API key with {access.api_key_scope} got {status}")
    assert not failures, "\n".join(failures)


def members_rank(role: str) -> Level:
    return Level(role)
