"""The /auth flows, end to end through the app on a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from funnel.core.auth.throttle import ThrottlePolicy
from funnel.core.auth.tokens import decode_access_token
from funnel.core.models import Invitation, LoginAttempt, RefreshToken, User
from funnel.core.security.tokens import hash_token
from funnel.core.settings import Settings
from tests.api.conftest import PASSWORD, Tenant, bearer, register, session_from


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: object
) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": password, **extra})


async def test_login_issues_short_lived_tokens_with_aware_utc_expiry(
    client: httpx.AsyncClient, tenant: Tenant, api_settings: Settings
) -> None:
    before = dt.datetime.now(dt.UTC)
    response = await login(client, tenant.owner.email.upper())
    assert response.status_code == 200, response.text
    body = response.json()
    claims = decode_access_token(api_settings.auth, body["access_token"])
    assert claims.organisation_id == tenant.organisation_id
    assert claims.role.value == "owner"
    lifetime = claims.expires_at - before
    # 15 minutes from now, in UTC: the original's naive-IST exp lived 5.5 hours too long.
    assert dt.timedelta(minutes=14) < lifetime <= dt.timedelta(minutes=15, seconds=5)
    raw = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert raw["exp"] - raw["iat"] == api_settings.auth.access_token_ttl_s


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    wrong = await login(client, tenant.owner.email, "not the password at all")
    unknown = await login(client, "nobody@nowhere.example", "whatever password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


@pytest.fixture
def throttle_policy() -> ThrottlePolicy:
    return ThrottlePolicy(account_failures=3, account_window_s=600, ip_attempts=50)


async def test_login_is_rate_limited_per_account_with_retry_after(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for _ in range(3):
        assert (await login(client, tenant.owner.email, "wrong password!!")).status_code == 401
    locked = await login(client, tenant.owner.email)  # even the right password
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 600
    # Another account from the same address is not locked by this one's failures.
    other = await register(client)
    assert (await login(client, other.owner.email)).status_code == 200


async def test_login_is_rate_limited_per_ip(api_settings: Settings, database_url: str) -> None:
    from asgi_lifespan import LifespanManager

    from funnel.api.app import create_app

    app = create_app(api_settings, throttle_policy=ThrottlePolicy(ip_attempts=4, ip_window_s=60))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            statuses = [
                (await login(c, f"user{i}@spray.example", "some password")).status_code
                for i in range(6)
            ]
    assert statuses[:4] == [401] * 4
    assert statuses[4:] == [429, 429]


async def test_two_api_instances_share_the_login_limits(
    api_settings: Settings, database_url: str
) -> None:
    """Two apps on one database (two replicas behind a load balancer): the address's attempts
    and the account's failures are counted once, whichever replica takes each request."""
    import contextlib

    from asgi_lifespan import LifespanManager

    from funnel.api.app import create_app

    policy = ThrottlePolicy(account_failures=3, account_window_s=600, ip_attempts=6, ip_window_s=60)
    first, second = (create_app(api_settings, throttle_policy=policy) for _ in range(2))
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(LifespanManager(first))
        await stack.enter_async_context(LifespanManager(second))

        def client_of(app: Any, ip: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 1234))
            return httpx.AsyncClient(transport=transport, base_url="http://api.test")

        a = await stack.enter_async_context(client_of(first, "198.51.100.20"))
        b = await stack.enter_async_context(client_of(second, "198.51.100.20"))
        tenant_client = await stack.enter_async_context(client_of(first, "192.0.2.1"))
        owner = (await register(tenant_client)).owner

        # Per account: three failures spread over both replicas lock it on both, even for the
        # right password, with a Retry-After no longer than the window.
        failures = [
            (await login(c, owner.email, "wrong password!!")).status_code for c in (a, b, a)
        ]
        assert failures == [401, 401, 401]
        for c in (a, b):
            locked = await login(c, owner.email)
            assert locked.status_code == 429
            assert 0 < int(locked.headers["Retry-After"]) <= 600
            assert locked.json()["error"]["code"] == "rate_limited"
            assert locked.json()["error"]["details"]["limit"] == "account"

        # Per address: six counted attempts in all, alternating replicas (three so far: a
        # refused attempt is not counted); the next is refused by either.
        for c in (b, a, b):
            assert (await login(c, "someone@spray.example", "some password")).status_code == 401
        for c in (a, b):
            refused = await login(c, "another@spray.example", "some password")
            assert refused.status_code == 429
            assert 0 < int(refused.headers["Retry-After"]) <= 60
            assert refused.json()["error"]["details"]["limit"] == "ip"
        # Another address is unaffected.
        other = await stack.enter_async_context(client_of(second, "198.51.100.21"))
        assert (await login(other, "third@spray.example", "some password")).status_code == 401

    # The shared counters keep no plain e-mail or address.
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.select(LoginAttempt.key_hash))).scalars().all()
    finally:
        await engine.dispose()
    assert rows
    assert not any("@" in key or "198.51" in key for key in rows)


async def test_a_successful_login_clears_the_account_failures(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for _ in range(2):
        assert (await login(client, tenant.owner.email, "wrong password!!")).status_code == 401
    assert (await login(client, tenant.owner.email)).status_code == 200
    # Three failures are allowed again before the lock (the policy above allows three).
    for _ in range(3):
        assert (await login(client, tenant.owner.email, "wrong password!!")).status_code == 401
    assert (await login(client, tenant.owner.email)).status_code == 429


async def test_failures_leave_the_window(api_settings: Settings) -> None:
    from asgi_lifespan import LifespanManager

    from funnel.api.app import create_app

    policy = ThrottlePolicy(account_failures=1, account_window_s=1, ip_attempts=50)
    app = create_app(api_settings, throttle_policy=policy)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.30", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            assert (await login(c, "late@example.com", "some password")).status_code == 401
            locked = await login(c, "late@example.com", "some password")
            assert locked.status_code == 429
            assert locked.headers["Retry-After"] == "1"
            await asyncio.sleep(1.2)
            assert (await login(c, "late@example.com", "some password")).status_code == 401


async def _rotated_ago(app: FastAPI, token: str, ago: dt.timedelta) -> None:
    """Pretend ``token`` was rotated ``ago`` (the grace for concurrent refreshes is seconds)."""
    async with app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.token_hash == hash_token(token))
            .values(revoked_at=sa.func.now() - ago)
        )
        await session.commit()


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    first = tenant.owner.refresh_token
    rotated = await client.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    newest_access = rotated.json()["access_token"]
    assert (await client.get("/auth/me", headers=bearer(newest_access))).status_code == 200

    # The rotated token again, a minute later (past the grace for concurrent refreshes): theft
    # is assumed, and the whole family dies.
    await _rotated_ago(api_app, first, dt.timedelta(minutes=1))
    reuse = await client.post("/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": second})).status_code == 401
    # Access tokens of that session stop working too (the session id is checked per request).
    assert (await client.get("/auth/me", headers=bearer(newest_access))).status_code == 401


async def test_concurrent_refreshes_with_one_token_keep_the_session(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """Two tabs (or a request and a websocket reconnect) refreshing with the same token at the
    same moment: one rotates it, the other presents a token rotated a moment ago. Within the
    grace both get working tokens instead of the family being revoked as stolen."""
    token = tenant.owner.refresh_token
    answers = await asyncio.gather(
        *(client.post("/auth/refresh", json={"refresh_token": token}) for _ in range(2))
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    pairs = [a.json() for a in answers]
    assert pairs[0]["refresh_token"] != pairs[1]["refresh_token"]
    for pair in pairs:
        assert (
            await client.get("/auth/me", headers=bearer(pair["access_token"]))
        ).status_code == 200
        rotated = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert rotated.status_code == 200, rotated.text


async def test_the_refresh_grace_does_not_revive_a_logged_out_session(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = tenant.owner.refresh_token
    rotated = await client.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    logout = await client.post("/auth/logout", headers=bearer(rotated.json()["access_token"]))
    assert logout.status_code == 204
    assert (await client.post("/auth/refresh", json={"refresh_token": first})).status_code == 401


async def test_logout_revokes_the_session_at_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await client.post("/auth/logout", headers=tenant.owner.headers)).status_code == 204
    assert (await client.get("/auth/me", headers=tenant.owner.headers)).status_code == 401
    refreshed = await client.post(
        "/auth/refresh", json={"refresh_token": tenant.owner.refresh_token}
    )
    assert refreshed.status_code == 401


async def test_credentials_in_the_url_are_ignored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(f"/auth/me?token={tenant.owner.access_token}")
    assert response.status_code == 401


async def test_forged_and_expired_access_tokens_are_rejected(
    client: httpx.AsyncClient, tenant: Tenant, api_settings: Settings
) -> None:
    claims = jwt.decode(tenant.owner.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-entirely-0123456789", algorithm="HS256")
    assert (await client.get("/auth/me", headers=bearer(forged))).status_code == 401
    expired = jwt.encode(
        {**claims, "exp": int(dt.datetime.now(dt.UTC).timestamp()) - 1},
        api_settings.auth.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    assert (await client.get("/auth/me", headers=bearer(expired))).status_code == 401
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    assert (await client.get("/auth/me", headers=bearer(unsigned))).status_code == 401


async def test_deactivated_user_is_rejected_with_a_still_valid_token(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    agent = await tenant.member("agent")
    assert (await client.get("/auth/me", headers=agent.headers)).status_code == 200
    # Deactivated behind the API's back: only the per-request check can catch it.
    async with api_app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.update(User).where(User.id == agent.user_id).values(is_active=False)
        )
        await session.commit()
    assert (await client.get("/auth/me", headers=agent.headers)).status_code == 401
    assert (await login(client, agent.email)).status_code == 401
    assert (
        await client.post("/auth/refresh", json={"refresh_token": agent.refresh_token})
    ).status_code == 401


async def test_change_password_revokes_other_sessions_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    other_device = session_from(
        (await login(client, tenant.owner.email)).json(), tenant.owner.email
    )
    changed = await client.post(
        "/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=tenant.owner.headers,
    )
    assert changed.status_code == 204
    assert (await client.get("/auth/me", headers=tenant.owner.headers)).status_code == 200
    assert (await client.get("/auth/me", headers=other_device.headers)).status_code == 401
    assert (await login(client, tenant.owner.email)).status_code == 401
    assert (await login(client, tenant.owner.email, "a brand new passphrase")).status_code == 200


async def test_change_password_needs_the_current_one(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.post(
        "/auth/change-password",
        json={"current_password": "not it at all", "new_password": "a brand new passphrase"},
        headers=tenant.owner.headers,
    )
    assert response.status_code == 403


async def _invite(
    client: httpx.AsyncClient, tenant: Tenant, email: str, role: str = "agent"
) -> str:
    response = await client.post(
        "/users/invitations", json={"email": email, "role": role}, headers=tenant.owner.headers
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["accept_token"]
    return token


async def test_invitation_is_single_use(client: httpx.AsyncClient, tenant: Tenant) -> None:
    token = await _invite(client, tenant, "new.agent@example.com")
    body = {"token": token, "name": "New Agent", "password": PASSWORD}
    accepted = await client.post("/auth/accept-invitation", json=body)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["organisation_id"] == str(tenant.organisation_id)
    assert accepted.json()["role"] == "agent"
    again = await client.post("/auth/accept-invitation", json=body)
    assert again.status_code == 409


async def test_forged_invitation_is_not_found(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/auth/accept-invitation",
        json={"token": "x" * 43, "name": "Mallory", "password": PASSWORD},
    )
    assert response.status_code == 404


async def test_expired_invitation_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    token = await _invite(client, tenant, "late@example.com")
    async with api_app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.update(Invitation)
            .where(Invitation.organisation_id == tenant.organisation_id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        await session.commit()
    response = await client.post(
        "/auth/accept-invitation", json={"token": token, "name": "Late", "password": PASSWORD}
    )
    assert response.status_code == 409
    assert "expired" in response.json()["error"]["message"]


async def test_existing_account_joins_with_its_password_and_switches_organisation(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    token = await _invite(client, tenant, other_tenant.owner.email, role="viewer")
    without_password = await client.post("/auth/accept-invitation", json={"token": token})
    assert without_password.status_code == 401
    joined = await client.post(
        "/auth/accept-invitation", json={"token": token, "password": PASSWORD}
    )
    assert joined.status_code == 200
    me = (await client.get("/auth/me", headers=other_tenant.owner.headers)).json()
    assert {m["organisation_id"] for m in me["memberships"]} == {
        str(tenant.organisation_id),
        str(other_tenant.organisation_id),
    }
    switched = await client.post(
        "/auth/switch-organisation",
        json={"organisation_id": str(tenant.organisation_id)},
        headers=other_tenant.owner.headers,
    )
    assert switched.status_code == 200
    assert switched.json()["role"] == "viewer"
    # A login can pick the organisation too; one it has no membership in is refused.
    picked = await login(
        client, other_tenant.owner.email, organisation_id=str(tenant.organisation_id)
    )
    assert picked.json()["organisation_id"] == str(tenant.organisation_id)
    stranger = await login(client, other_tenant.owner.email, organisation_id=str(uuid.uuid4()))
    assert stranger.status_code == 403


async def test_register_refuses_an_existing_email_and_a_taken_slug(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    base = {
        "organisation_name": "Again",
        "timezone": "UTC",
        "name": "Someone",
        "password": PASSWORD,
    }
    same_email = await client.post(
        "/auth/register", json={**base, "slug": "fresh-slug-1", "email": tenant.owner.email}
    )
    assert same_email.status_code == 409
    same_slug = await client.post(
        "/auth/register", json={**base, "slug": tenant.slug, "email": "fresh@example.com"}
    )
    assert same_slug.status_code == 409
    bad_tz = await client.post(
        "/auth/register",
        json={
            **base,
            "slug": "fresh-slug-2",
            "email": "tz@example.com",
            "timezone": "Mars/Olympus",
        },
    )
    assert bad_tz.status_code == 422


async def test_refresh_tokens_are_stored_hashed(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    async with api_app.state.resources.sessionmaker() as session:
        hashes = (await session.scalars(sa.select(RefreshToken.token_hash))).all()
    assert tenant.owner.refresh_token not in hashes
    assert len(hashes) >= 1
