"""Fixtures for API tests: an app on a fresh database, an HTTP client, and signed-in tenants.

``api_app`` builds ``create_app`` on the ``database_url`` fixture (a migrated database of the
test's own, so the API's committed transactions are isolated) and runs its lifespan.
``client`` talks to it in process over ``httpx.ASGITransport``. ``tenant`` registers an
organisation through the API and returns its owner's tokens; ``tenant.member(role)`` adds a
user with that role (created directly, then logged in through the API).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr

from funnel.api.app import create_app
from funnel.core.auth.throttle import ThrottlePolicy
from funnel.core.settings import AuthSettings, DatabaseSettings, Environment, Settings

PASSWORD = "correct horse battery staple"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "database": DatabaseSettings(url=SecretStr(database_url), pool_size=5),
        "auth": AuthSettings(
            jwt_secret=SecretStr("test-jwt-secret-0123456789abcdef"),
            service_token=SecretStr("test-service-token-0123456789"),
            encryption_keys=[SecretStr("test-encryption-key")],
        ),
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def api_settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def throttle_policy() -> ThrottlePolicy | None:
    return None


@pytest_asyncio.fixture
async def api_app(
    api_settings: Settings, throttle_policy: ThrottlePolicy | None
) -> AsyncIterator[FastAPI]:
    app = create_app(api_settings, throttle_policy=throttle_policy)
    async with LifespanManager(app):
        yield app


@pytest_asyncio.fixture
async def client(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclasses.dataclass
class Session:
    user_id: uuid.UUID
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


@dataclasses.dataclass
class Tenant:
    client: httpx.AsyncClient
    organisation_id: uuid.UUID
    slug: str
    owner: Session
    _members: dict[str, Session] = dataclasses.field(default_factory=dict)

    async def member(self, role: str) -> Session:
        """A user with ``role`` in this organisation (invited and accepted through the API)."""
        if role == "owner":
            return self.owner
        if role in self._members:
            return self._members[role]
        email = f"{role}-{uuid.uuid4().hex[:8]}@{self.slug}.example"
        invited = await self.client.post(
            "/users/invitations", json={"email": email, "role": role}, headers=self.owner.headers
        )
        assert invited.status_code == 201, invited.text
        accepted = await self.client.post(
            "/auth/accept-invitation",
            json={
                "token": invited.json()["accept_token"],
                "name": role.title(),
                "password": PASSWORD,
            },
        )
        assert accepted.status_code == 200, accepted.text
        session = session_from(accepted.json(), email)
        self._members[role] = session
        return session


def session_from(tokens: dict[str, Any], email: str) -> Session:
    import jwt

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return Session(
        user_id=uuid.UUID(claims["sub"]),
        email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


async def register(client: httpx.AsyncClient, slug: str | None = None) -> Tenant:
    slug = slug or f"org-{uuid.uuid4().hex[:10]}"
    email = f"owner@{slug}.example"
    response = await client.post(
        "/auth/register",
        json={
            "organisation_name": slug.title(),
            "slug": slug,
            "timezone": "Asia/Kolkata",
            "name": "Owner",
            "email": email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Tenant(
        client=client,
        organisation_id=uuid.UUID(body["organisation_id"]),
        slug=slug,
        owner=session_from(body, email),
    )


TenantFactory = Callable[[], Awaitable[Tenant]]


@pytest_asyncio.fixture
async def tenant(client: httpx.AsyncClient) -> Tenant:
    return await register(client)


@pytest_asyncio.fixture
async def other_tenant(client: httpx.AsyncClient) -> Tenant:
    return await register(client)
