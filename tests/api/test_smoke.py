from __future__ import annotations

import httpx

from tests.api.conftest import Tenant


async def test_register_then_me(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/auth/me", headers=tenant.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role"] == "owner"
    assert body["organisation_id"] == str(tenant.organisation_id)
    assert [m["organisation_slug"] for m in body["memberships"]] == [tenant.slug]
    assert "password_hash" not in response.text
