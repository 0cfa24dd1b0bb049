"""Role rules on /users, settings and audit rows, WhatsApp connect against the sandbox, /debug."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from funnel.api.app import create_app
from funnel.core.models import AuditLog, WhatsAppChannel
from funnel.core.security.crypto import SecretBox
from funnel.core.settings import Environment, Settings, WhatsAppSettings
from tests.api.conftest import Tenant, make_settings
from tests.core.sandbox.support import RunningSandbox, serve_sandbox


async def test_last_owner_cannot_be_demoted_or_deactivated(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = await tenant.member("admin")
    demote = await client.patch(
        f"/users/{tenant.owner.user_id}/role", json={"role": "admin"}, headers=tenant.owner.headers
    )
    assert demote.status_code == 409
    # An admin may not touch an owner at all.
    by_admin = await client.post(f"/users/{tenant.owner.user_id}/deactivate", headers=admin.headers)
    assert by_admin.status_code == 403
    # With a second owner, the first can step down.
    promoted = await client.patch(
        f"/users/{admin.user_id}/role", json={"role": "owner"}, headers=tenant.owner.headers
    )
    assert promoted.status_code == 200
    stepped_down = await client.patch(
        f"/users/{tenant.owner.user_id}/role", json={"role": "admin"}, headers=tenant.owner.headers
    )
    assert stepped_down.status_code == 200


async def test_nobody_raises_their_own_role(client: httpx.AsyncClient, tenant: Tenant) -> None:
    admin = await tenant.member("admin")
    agent = await tenant.member("agent")
    own = await client.patch(
        f"/users/{admin.user_id}/role", json={"role": "owner"}, headers=admin.headers
    )
    assert own.status_code == 403
    agent_self = await client.patch(
        f"/users/{agent.user_id}/role", json={"role": "admin"}, headers=agent.headers
    )
    assert agent_self.status_code == 403
    # Admins cannot hand out the owner role either, nor invite above their own role.
    grant = await client.patch(
        f"/users/{agent.user_id}/role", json={"role": "owner"}, headers=admin.headers
    )
    assert grant.status_code == 403
    invite_owner = await client.post(
        "/users/invitations",
        json={"email": "boss@example.com", "role": "owner"},
        headers=admin.headers,
    )
    assert invite_owner.status_code == 403


async def test_deactivation_cuts_access_at_once_and_is_audited(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    agent = await tenant.member("agent")
    response = await client.post(f"/users/{agent.user_id}/deactivate", headers=tenant.owner.headers)
    assert response.status_code == 204
    assert (await client.get("/auth/me", headers=agent.headers)).status_code == 401
    refreshed = await client.post("/auth/refresh", json={"refresh_token": agent.refresh_token})
    assert refreshed.status_code == 401
    members = (await client.get("/users", headers=tenant.owner.headers)).json()
    assert str(agent.user_id) not in {m["id"] for m in members}
    async with api_app.state.resources.sessionmaker() as session:
        actions = (
            await session.scalars(
                sa.select(AuditLog.action).where(AuditLog.organisation_id == tenant.organisation_id)
            )
        ).all()
    assert {"invitation.created", "invitation.accepted", "membership.deactivated"} <= set(actions)


async def test_only_admins_see_invite_links(client: httpx.AsyncClient, tenant: Tenant) -> None:
    agent = await tenant.member("agent")
    response = await client.post(
        "/users/invitations",
        json={"email": "x@example.com", "role": "viewer"},
        headers=agent.headers,
    )
    assert response.status_code == 403
    assert "accept_token" not in response.text


async def test_settings_update_is_partial_validated_and_audited(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    updated = await client.patch(
        "/settings",
        json={
            "flow_prompt": "Qualify, then offer a demo.",
            "quiet_hours": {"start": "22:00", "end": "08:00"},
            "llm_models": {"brain": "gemini-2.5-pro"},
        },
        headers=tenant.owner.headers,
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["flow_prompt"] == "Qualify, then offer a demo."
    assert body["timezone"] == "Asia/Kolkata"  # untouched
    assert body["llm_models"] == {"brain": "gemini-2.5-pro"}
    bad = await client.patch(
        "/settings",
        json={"quiet_hours": {"start": "25:00", "end": "08:00"}},
        headers=tenant.owner.headers,
    )
    assert bad.status_code == 422
    viewer = await tenant.member("viewer")
    assert (
        await client.patch("/settings", json={"flow_prompt": "x"}, headers=viewer.headers)
    ).status_code == 403
    async with api_app.state.resources.sessionmaker() as session:
        row = (
            await session.scalars(
                sa.select(AuditLog).where(
                    AuditLog.organisation_id == tenant.organisation_id,
                    AuditLog.action == "organisation.settings_updated",
                )
            )
        ).one()
    assert row.changes["flow_prompt"]["to"] == "Qualify, then offer a demo."
    assert row.actor_user_id == tenant.owner.user_id
    assert str(row.ip) == "203.0.113.7"


async def test_the_handoff_notice_setting_over_rest_and_graphql(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """On by default (what every organisation had before it was a setting); switched off and on
    again through REST and GraphQL, each seeing the other's change."""
    initial = await client.get("/settings", headers=tenant.owner.headers)
    assert initial.status_code == 200, initial.text
    assert initial.json()["notify_customer_on_handoff"] is True

    off = await client.patch(
        "/settings", json={"notify_customer_on_handoff": False}, headers=tenant.owner.headers
    )
    assert off.status_code == 200, off.text
    assert off.json()["notify_customer_on_handoff"] is False
    assert off.json()["pause_bot_on_attention"] is True  # untouched

    query = "{ settings { notifyCustomerOnHandoff } }"
    seen = await client.post("/graphql", json={"query": query}, headers=tenant.owner.headers)
    assert seen.json()["data"]["settings"] == {"notifyCustomerOnHandoff": False}

    mutation = """
      mutation ($input: SettingsInput!) {
        updateSettings(input: $input) { __typename ... on Settings { notifyCustomerOnHandoff } }
      }"""
    on = await client.post(
        "/graphql",
        json={"query": mutation, "variables": {"input": {"notifyCustomerOnHandoff": True}}},
        headers=tenant.owner.headers,
    )
    assert on.json()["data"]["updateSettings"] == {
        "__typename": "Settings",
        "notifyCustomerOnHandoff": True,
    }
    after = await client.get("/settings", headers=tenant.owner.headers)
    assert after.json()["notify_customer_on_handoff"] is True


# ---------------------------------------------------------------- WhatsApp channels

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
ACCESS_TOKEN = "EAAG-sandbox-token-abcdefWXYZ"
APP_SECRET = "app-secret-0123456789-LAST"
VERIFY_TOKEN = "verify-token-value-VRFY"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(tokens={PHONE_NUMBER_ID: ACCESS_TOKEN}) as running:
        yield running


@pytest.fixture
def api_settings(database_url: str, sandbox: RunningSandbox) -> Settings:
    return make_settings(database_url, whatsapp=WhatsAppSettings(graph_base_url=sandbox.url))


def _connect_body(**overrides: str) -> dict[str, str]:
    return {
        "phone_number_id": PHONE_NUMBER_ID,
        "waba_id": WABA_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "name": "Main line",
        **overrides,
    }


def _assert_no_secret(text: str) -> None:
    for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, "fedcba9876543210-ROTATED"):
        assert secret not in text


async def test_connect_checks_with_meta_and_never_returns_secrets(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    bad = await client.post(
        "/settings/whatsapp/channels",
        json=_connect_body(access_token="EAAG-wrong-token-0000"),
        headers=tenant.owner.headers,
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"]["message"] == "WhatsApp rejected these credentials"
    assert (
        await client.get("/settings/whatsapp/channels", headers=tenant.owner.headers)
    ).json() == []

    connected = await client.post(
        "/settings/whatsapp/channels", json=_connect_body(), headers=tenant.owner.headers
    )
    assert connected.status_code == 201, connected.text
    channel = connected.json()
    assert channel["access_token_last4"] == "WXYZ"
    assert channel["app_secret_last4"] == "LAST"
    assert channel["verify_token_last4"] == "VRFY"
    assert channel["is_connected"] is True
    channel_id = channel["id"]

    rotated = await client.post(
        f"/settings/whatsapp/channels/{channel_id}/app-secret",
        json={"app_secret": "fedcba9876543210-ROTATED"},
        headers=tenant.owner.headers,
    )
    assert rotated.json()["app_secrets_active"] == 2
    assert rotated.json()["app_secret_last4"] == "ATED"

    responses = [
        connected,
        rotated,
        await client.get("/settings/whatsapp/channels", headers=tenant.owner.headers),
        await client.get(f"/settings/whatsapp/channels/{channel_id}", headers=tenant.owner.headers),
        await client.get(
            "/internals/channels",
            headers={"Authorization": "Bearer test-service-token-0123456789"},
        ),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        _assert_no_secret(response.text)

    # Stored encrypted, decryptable with the configured keys; audit rows carry no secret.
    async with api_app.state.resources.sessionmaker() as session:
        row = (
            await session.scalars(
                sa.select(WhatsAppChannel).where(WhatsAppChannel.id == uuid.UUID(channel_id))
            )
        ).one()
        box = SecretBox(["test-encryption-key"])
        assert box.decrypt(row.access_token_encrypted) == ACCESS_TOKEN
        assert [box.decrypt(s) for s in row.app_secrets_encrypted] == [
            "fedcba9876543210-ROTATED",
            APP_SECRET,
        ]
        audit = (
            await session.scalars(
                sa.select(AuditLog).where(AuditLog.organisation_id == tenant.organisation_id)
            )
        ).all()
    _assert_no_secret(repr([a.changes for a in audit]))
    assert {"channel.connected", "channel.app_secret_rotated"} <= {a.action for a in audit}

    disconnected = await client.post(
        f"/settings/whatsapp/channels/{channel_id}/disconnect", headers=tenant.owner.headers
    )
    assert disconnected.status_code == 200
    assert disconnected.json()["is_connected"] is False
    # Kept, so its conversations and messages still have their channel.
    listed = (await client.get("/settings/whatsapp/channels", headers=tenant.owner.headers)).json()
    assert [c["id"] for c in listed] == [channel_id]


async def test_a_number_belongs_to_one_organisation(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await client.post(
        "/settings/whatsapp/channels", json=_connect_body(), headers=tenant.owner.headers
    )
    assert first.status_code == 201
    second = await client.post(
        "/settings/whatsapp/channels", json=_connect_body(), headers=other_tenant.owner.headers
    )
    assert second.status_code == 409
    # And the other organisation still sees nothing of it.
    assert (
        await client.get("/settings/whatsapp/channels", headers=other_tenant.owner.headers)
    ).json() == []


async def test_internals_needs_the_service_token(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert (await client.get("/internals/channels")).status_code == 401
    assert (
        await client.get("/internals/channels", headers=tenant.owner.headers)
    ).status_code == 401
    wrong = {"X-Service-Token": "test-service-token-0123456780"}
    assert (await client.get("/internals/channels", headers=wrong)).status_code == 401


# ---------------------------------------------------------------- /debug


async def test_dry_run_returns_the_stage_traces_and_stores_nothing(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    response = await client.post(
        "/debug/dry-run",
        json={"text": "Hi! How much is the premium plan?"},
        headers=tenant.owner.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["is_offline"] is True
    stages = [step["stage"] for step in body["steps"]]
    for stage in ("eyes", "brain", "mouth"):
        assert stage in stages
    assert body["decision"]
    async with api_app.state.resources.sessionmaker() as session:
        for table in ("leads", "conversations", "messages", "outbox", "pipeline_runs"):
            count = (await session.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()
            assert count == 0, table
    agent = await tenant.member("agent")
    forbidden = await client.post("/debug/dry-run", json={"text": "hi"}, headers=agent.headers)
    assert forbidden.status_code == 403


async def test_debug_does_not_exist_in_production(database_url: str) -> None:
    settings = make_settings(database_url).model_copy(
        update={"environment": Environment.PRODUCTION}
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            assert (await c.post("/debug/dry-run", json={"text": "hi"})).status_code == 404
            assert (await c.get("/docs")).status_code == 404
            assert (await c.get("/openapi.json")).status_code == 404
