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
