"""A page's query count does not grow with its size."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.api.conftest import Tenant
from tests.api.querycount import count_queries

USERS = "{ me { role } users { email role } settings { flowPrompt channels { id } } }"


async def _cost(client: httpx.AsyncClient, app: FastAPI, tenant: Tenant) -> int:
    with count_queries(app) as counter:
        response = await client.post(
            "/graphql", json={"query": USERS}, headers=tenant.owner.headers
        )
    assert response.status_code == 200
    assert "errors" not in response.json(), response.json()
    return counter.count


async def test_members_page_costs_the_same_for_one_or_many(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    alone = await _cost(client, api_app, tenant)
    for role in ("admin", "agent", "viewer"):
        await tenant.member(role)
    crowded = await _cost(client, api_app, tenant)
    assert crowded == alone
    # Authentication is one statement, and the three fields a handful more.
    assert alone <= 6, alone


INVITATIONS = "{ invitations { email invitedBy { name email } } }"


async def _invitations_cost(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant
) -> tuple[int, list[dict[str, object]]]:
    with count_queries(app) as counter:
        response = await client.post(
            "/graphql", json={"query": INVITATIONS}, headers=tenant.owner.headers
        )
    body = response.json()
    assert "errors" not in body, body
    invitations: list[dict[str, object]] = body["data"]["invitations"]
    return counter.count, invitations


async def test_invitations_load_their_inviters_in_one_batch(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    admin = await tenant.member("admin")  # its own invitation is accepted, so not open

    async def invite(session_headers: dict[str, str], email: str) -> None:
        response = await client.post(
            "/users/invitations", json={"email": email, "role": "viewer"}, headers=session_headers
        )
        assert response.status_code == 201

    await invite(tenant.owner.headers, "one@example.com")
    one, _ = await _invitations_cost(client, api_app, tenant)
    for i in range(2):
        await invite(tenant.owner.headers, f"owner-{i}@example.com")
        await invite(admin.headers, f"admin-{i}@example.com")
    five, invitations = await _invitations_cost(client, api_app, tenant)
    assert len(invitations) == 5
    assert {i["invitedBy"]["email"] for i in invitations} == {tenant.owner.email, admin.email}  # type: ignore[index]
    # Principal, invitations, one batched user load: the same for one row or five.
    assert five == one
