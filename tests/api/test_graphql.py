"""GraphQL over HTTP: the same credentials and services as REST, limits, and the SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from funnel.api.app import create_app
from funnel.api.graphql import extensions
from funnel.api.graphql.schema import export_sdl
from funnel.core.settings import Environment
from tests.api.conftest import Tenant, make_settings

SDL_PATH = Path(__file__).resolve().parents[2] / "api" / "schema.graphql"


async def gql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_checked_in_sdl_matches_the_code() -> None:
    assert SDL_PATH.read_text() == export_sdl(), (
        "api/schema.graphql is stale: run `funnel api export-schema --output api/schema.graphql`"
    )


async def test_me_and_users_are_the_callers_organisation_only(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    body = await gql(
        client,
        "{ me { role organisation { id slug } user { email } } users { email role } }",
        tenant.owner.headers,
    )
    assert "errors" not in body, body
    assert body["data"]["me"]["organisation"]["slug"] == tenant.slug
    assert body["data"]["me"]["role"] == "OWNER"
    assert [u["email"] for u in body["data"]["users"]] == [tenant.owner.email]
    # The other organisation's owner, asked for by id, does not exist from here.
    other = await gql(
        client, "query($id: ID!) { user(id: $id) { email } }", tenant.owner.headers,
        id=str(other_tenant.owner.user_id),
    )  # fmt: skip
    assert other["data"]["user"] is None


async def test_anonymous_gets_no_data(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ me { role } }")
    assert body["data"] is None
    assert body["errors"][0]["message"] == "a user session is required"


async def test_mutation_failures_are_union_members_and_roles_are_enforced(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    mutation = """
      mutation($input: SettingsInput!) {
        updateSettings(input: $input) {
          __typename
          ... on Settings { flowPrompt timezone }
          ... on UserError { message }
        }
      }"""
    ok = await gql(client, mutation, tenant.owner.headers, input={"flowPrompt": "Be brief."})
    assert ok["data"]["updateSettings"] == {
        "__typename": "Settings",
        "flowPrompt": "Be brief.",
        "timezone": "Asia/Kolkata",
    }
    invalid = await gql(client, mutation, tenant.owner.headers, input={"timezone": "Nowhere/Land"})
    assert invalid["data"]["updateSettings"]["__typename"] == "ValidationError"
    viewer = await tenant.member("viewer")
    denied = await gql(client, mutation, viewer.headers, input={"flowPrompt": "x"})
    assert denied["data"] is None
    assert "admin" in denied["errors"][0]["message"]
    after = await gql(client, "{ settings { flowPrompt } }", viewer.headers)
    assert after["data"]["settings"]["flowPrompt"] == "Be brief."


async def test_depth_cost_and_token_limits(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def query(alias: str) -> str:
        # A document's validation is cached, so each step below sends a document of its own.
        return f"{{ {alias}: me {{ organisation {{ id slug }} }} users {{ email }} }}"

    assert "errors" not in await gql(client, query("a"), tenant.owner.headers)
    # The limits are read when a document is validated; lowered, today's small schema can
    # exceed them.
    monkeypatch.setattr(extensions, "MAX_DEPTH", 1)
    body = await gql(client, query("b"), tenant.owner.headers)
    assert body["data"] is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    monkeypatch.setattr(extensions, "MAX_DEPTH", 10)
    monkeypatch.setattr(extensions, "MAX_COST", 4)
    body = await gql(client, query("c"), tenant.owner.headers)
    assert body["data"] is None
    assert "too expensive" in body["errors"][0]["message"]
    monkeypatch.setattr(extensions, "MAX_COST", 20_000)
    too_long = "{ " + " ".join(f"a{i}: __typename" for i in range(1500)) + " }"
    body = await gql(client, too_long, tenant.owner.headers)
    assert body["data"] is None
    assert "token" in body["errors"][0]["message"].lower()


async def test_introspection_is_off_in_production(database_url: str) -> None:
    settings = make_settings(database_url).model_copy(
        update={"environment": Environment.PRODUCTION}
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
            body = (
                await c.post("/graphql", json={"query": "{ __schema { types { name } } }"})
            ).json()
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_introspection_is_on_in_test(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_member_management_through_graphql(client: httpx.AsyncClient, tenant: Tenant) -> None:
    invited = await gql(
        client,
        'mutation { inviteUser(email: "gql@example.com", role: VIEWER) '
        "{ __typename ... on Invitation { email acceptToken } } }",
        tenant.owner.headers,
    )
    invitation = invited["data"]["inviteUser"]
    assert invitation["__typename"] == "Invitation"
    accepted = await client.post(
        "/auth/accept-invitation",
        json={"token": invitation["acceptToken"], "name": "Gee", "password": "long enough pw"},
    )
    assert accepted.status_code == 200
    users = (await gql(client, "{ users { id email } }", tenant.owner.headers))["data"]["users"]
    viewer_id = next(u["id"] for u in users if u["email"] == "gql@example.com")
    changed = await gql(
        client,
        "mutation($id: ID!) { changeUserRole(userId: $id, role: AGENT) "
        "{ __typename ... on Member { role } } }",
        tenant.owner.headers,
        id=viewer_id,
    )
    assert changed["data"]["changeUserRole"] == {"__typename": "Member", "role": "AGENT"}
    last_owner = await gql(
        client,
        "mutation($id: ID!) { changeUserRole(userId: $id, role: ADMIN) "
        "{ __typename ... on UserError { message } } }",
        tenant.owner.headers,
        id=str(tenant.owner.user_id),
    )
    assert last_owner["data"]["changeUserRole"]["__typename"] == "ConflictError"
    gone = await gql(
        client,
        "mutation($id: ID!) { deactivateUser(userId: $id) { __typename } }",
        tenant.owner.headers,
        id=viewer_id,
    )
    assert gone["data"]["deactivateUser"]["__typename"] == "Deactivated"
    emails = [
        u["email"]
        for u in (await gql(client, "{ users { email } }", tenant.owner.headers))["data"]["users"]
    ]
    assert emails == [tenant.owner.email]
