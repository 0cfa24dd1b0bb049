"""WhatsApp channels over GraphQL: the same service as REST's ``/settings/whatsapp/channels``,
credentials checked with the Graph API sandbox before anything is stored, secrets write-only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.models import AuditLog
from funnel.core.settings import Settings, WhatsAppSettings
from tests.api.conftest import Tenant, make_settings
from tests.api.test_graphql_inbox import gql
from tests.core.sandbox.support import RunningSandbox, serve_sandbox

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
ACCESS_TOKEN = "EAAG-sandbox-token-abcdefWXYZ"
NEW_ACCESS_TOKEN = "EAAG-sandbox-token-second-NEWT"
APP_SECRET = "app-secret-0123456789-LAST"
ROTATED_SECRET = "fedcba9876543210-ROTATED"
VERIFY_TOKEN = "verify-token-value-VRFY"
SECRETS = (ACCESS_TOKEN, NEW_ACCESS_TOKEN, APP_SECRET, ROTATED_SECRET, VERIFY_TOKEN)

CHANNEL = """
  id name phoneNumberId wabaId displayPhoneNumber graphVersion isConnected pausedReason
  accessTokenLast4 appSecretLast4 appSecretsActive verifyTokenLast4
"""
RESULT = f"""
  __typename
  ... on Channel {{ {CHANNEL} }}
  ... on CredentialsError {{ message code graphCode graphMessage }}
  ... on UserError {{ message code }}
"""
CONNECT = f"""mutation($input: ConnectChannelInput!) {{
  connectChannel(input: $input) {{ {RESULT} }}
}}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateChannelInput!) {{
  updateChannel(id: $id, input: $input) {{ {RESULT} }}
}}"""
ROTATE = f"""mutation($id: ID!, $secret: String!) {{
  rotateChannelAppSecret(id: $id, appSecret: $secret) {{ {RESULT} }}
}}"""
DISCONNECT = f"mutation($id: ID!) {{ disconnectChannel(id: $id) {{ {RESULT} }} }}"
READ = f"""query($id: ID!) {{
  channel(id: $id) {{ {CHANNEL} }}
  settings {{ channels {{ {CHANNEL} }} }}
}}"""


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(tokens={PHONE_NUMBER_ID: ACCESS_TOKEN}) as running:
        yield running


@pytest.fixture
def api_settings(database_url: str, sandbox: RunningSandbox) -> Settings:
    return make_settings(database_url, whatsapp=WhatsAppSettings(graph_base_url=sandbox.url))


def connect_input(**overrides: str) -> dict[str, str]:
    return {
        "phoneNumberId": PHONE_NUMBER_ID,
        "wabaId": WABA_ID,
        "accessToken": ACCESS_TOKEN,
        "appSecret": APP_SECRET,
        "verifyToken": VERIFY_TOKEN,
        "name": "Main line",
        **overrides,
    }


def assert_no_secret(body: Any) -> None:
    text = repr(body)
    for secret in SECRETS:
        assert secret not in text


async def channels(client: httpx.AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    body = await gql(client, tenant, "{ settings { channels { id } } }")
    result: list[dict[str, Any]] = body["data"]["settings"]["channels"]
    return result


async def test_connect_is_checked_with_meta_and_never_returns_a_secret(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    refused = await gql(
        client, tenant, CONNECT, input=connect_input(accessToken="EAAG-wrong-token-0000")
    )
    result = refused["data"]["connectChannel"]
    assert result["__typename"] == "CredentialsError", refused
    assert result["message"] == "WhatsApp rejected these credentials"
    assert result["code"] == "credentials_rejected"
    assert result["graphCode"] == 190
    # Meta's explanation as Meta wrote it, not the log line (codes, HTTP status, trace id).
    assert result["graphMessage"] == "Error validating access token: The session is invalid."
    assert await channels(client, tenant) == []

    malformed = await gql(client, tenant, CONNECT, input=connect_input(phoneNumberId="not-an-id"))
    assert malformed["data"]["connectChannel"]["__typename"] == "ValidationError"
    assert "phone_number_id" in malformed["data"]["connectChannel"]["message"]

    connected = await gql(client, tenant, CONNECT, input=connect_input())
    channel = connected["data"]["connectChannel"]
    assert channel["__typename"] == "Channel", connected
    last4 = (channel["accessTokenLast4"], channel["appSecretLast4"], channel["verifyTokenLast4"])
    assert last4 == ("WXYZ", "LAST", "VRFY")
    assert channel["isConnected"] is True
    assert (channel["phoneNumberId"], channel["wabaId"], channel["name"]) == (
        PHONE_NUMBER_ID,
        WABA_ID,
        "Main line",
    )
    rest = await client.get("/settings/whatsapp/channels", headers=tenant.owner.headers)
    assert [c["id"] for c in rest.json()] == [channel["id"]]

    # A token Meta does not accept for this number is refused and the stored one kept.
    wrong = await gql(
        client, tenant, UPDATE, id=channel["id"], input={"accessToken": NEW_ACCESS_TOKEN}
    )
    assert wrong["data"]["updateChannel"]["__typename"] == "CredentialsError", wrong
    renamed = await gql(
        client,
        tenant,
        UPDATE,
        id=channel["id"],
        input={"name": "Sales", "verifyToken": "another-verify-token-ABCD"},
    )
    assert renamed["data"]["updateChannel"]["name"] == "Sales"
    assert renamed["data"]["updateChannel"]["verifyTokenLast4"] == "ABCD"
    assert renamed["data"]["updateChannel"]["accessTokenLast4"] == "WXYZ"

    rotated = await gql(client, tenant, ROTATE, id=channel["id"], secret=ROTATED_SECRET)
    assert rotated["data"]["rotateChannelAppSecret"]["appSecretLast4"] == "ATED"
    assert rotated["data"]["rotateChannelAppSecret"]["appSecretsActive"] == 2

    read = await gql(client, tenant, READ, id=channel["id"])
    assert read["data"]["channel"]["appSecretLast4"] == "ATED"
    assert [c["id"] for c in read["data"]["settings"]["channels"]] == [channel["id"]]

    disconnected = await gql(client, tenant, DISCONNECT, id=channel["id"])
    result = disconnected["data"]["disconnectChannel"]
    assert (result["isConnected"], result["pausedReason"], result["accessTokenLast4"]) == (
        False,
        "disconnected",
        "",
    )

    for body in (refused, connected, wrong, renamed, rotated, read, disconnected):
        assert_no_secret(body)
    async with api_app.state.resources.sessionmaker() as session:
        audit = (
            await session.scalars(
                sa.select(AuditLog).where(AuditLog.organisation_id == tenant.organisation_id)
            )
        ).all()
    assert {
        "channel.connected",
        "channel.credentials_updated",
        "channel.app_secret_rotated",
        "channel.disconnected",
    } <= {a.action for a in audit}
    assert_no_secret([a.changes for a in audit])


async def test_writes_need_an_admin_and_a_number_belongs_to_one_organisation(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    agent = await tenant.member("agent")
    denied = await gql(client, tenant, CONNECT, headers=agent.headers, input=connect_input())
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await channels(client, tenant) == []

    first = await gql(client, tenant, CONNECT, input=connect_input())
    assert first["data"]["connectChannel"]["__typename"] == "Channel"
    second = await gql(client, other_tenant, CONNECT, input=connect_input())
    assert second["data"]["connectChannel"]["__typename"] == "ConflictError", second
    assert await channels(client, other_tenant) == []

    # Another organisation's channel id is not found, and not changed.
    channel_id = first["data"]["connectChannel"]["id"]
    foreign = await gql(client, other_tenant, DISCONNECT, id=channel_id)
    assert foreign["data"]["disconnectChannel"]["__typename"] == "NotFoundError"
    still = await gql(client, tenant, READ, id=channel_id)
    assert still["data"]["channel"]["isConnected"] is True
