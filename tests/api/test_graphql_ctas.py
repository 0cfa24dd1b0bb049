"""CTAs over GraphQL: the same service as REST's ``/ctas``, admins write, everyone reads."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.models import AuditLog
from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql

FIELDS = "id type name url buttonText payload isActive"
RESULT = f"""
  __typename
  ... on Cta {{ {FIELDS} }}
  ... on LimitError {{ message problems {{ field message }} }}
  ... on UserError {{ message code }}
"""
CREATE = f"mutation($input: CtaCreateInput!) {{ createCta(input: $input) {{ {RESULT} }} }}"
UPDATE = f"""mutation($id: ID!, $input: CtaUpdateInput) {{
  updateCta(id: $id, input: $input) {{ {RESULT} }} }}"""
BOOK = {
    "type": "BOOK_CALL",
    "name": "Book a call",
    "url": "https://cal.example.com/sales",
    "buttonText": "Pick a slot",
    "payload": {"calendar": "sales"},
}


async def test_cta_lifecycle(client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant) -> None:
    created = (await gql(client, tenant, CREATE, input=BOOK))["data"]["createCta"]
    assert created["__typename"] == "Cta", created
    # Audited as REST audits: who, from where.
    async with api_app.state.resources.sessionmaker() as session:
        entry = (
            await session.execute(
                sa.select(AuditLog).where(
                    AuditLog.action == "cta.created", AuditLog.entity_id == created["id"]
                )
            )
        ).scalar_one()
    assert entry.actor_user_id == tenant.owner.user_id
    assert str(entry.ip) == "203.0.113.7"
    assert created["payload"] == {"calendar": "sales"}
    assert created["isActive"] is True
    duplicate = (await gql(client, tenant, CREATE, input=BOOK))["data"]["createCta"]
    assert duplicate["__typename"] == "ConflictError"
    plain_http = (
        await gql(client, tenant, CREATE, input={**BOOK, "name": "x", "url": "http://a.example"})
    )["data"]["createCta"]
    assert plain_http["__typename"] == "LimitError"
    assert plain_http["problems"][0]["field"] == "url"
    no_button = (
        await gql(client, tenant, CREATE, input={**BOOK, "name": "y", "buttonText": None})
    )["data"]["createCta"]
    assert no_button == {
        "__typename": "LimitError",
        "message": "a CTA with a url needs button_text",
        "code": "validation_failed",
        "problems": [{"field": "button_text", "message": "a CTA with a url needs button_text"}],
    }

    renamed = (await gql(client, tenant, UPDATE, id=created["id"], input={"name": "Call us"}))[
        "data"
    ]["updateCta"]
    assert renamed["name"] == "Call us"
    assert renamed["url"] == "https://cal.example.com/sales"
    off = await gql(
        client,
        tenant,
        "mutation($id: ID!) { setCtaActive(id: $id, active: false) { ... on Cta { isActive } } }",
        id=created["id"],
    )
    assert off["data"]["setCtaActive"] == {"isActive": False}
    viewer = await tenant.member("viewer")
    everything = await gql(client, tenant, "{ ctas { name isActive } }", headers=viewer.headers)
    assert everything["data"]["ctas"] == [{"name": "Call us", "isActive": False}]
    active = await gql(client, tenant, "{ ctas(activeOnly: true) { name } }")
    assert active["data"]["ctas"] == []
    refused = await gql(client, tenant, UPDATE, headers=viewer.headers, id=created["id"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # REST sees the same row.
    rest = await client.get(f"/ctas/{created['id']}", headers=tenant.owner.headers)
    assert rest.json()["name"] == "Call us"

    deleted = await gql(
        client,
        tenant,
        "mutation($id: ID!) { deleteCta(id: $id) { __typename } }",
        id=created["id"],
    )
    assert deleted["data"]["deleteCta"] == {"__typename": "Deleted"}
    gone = await gql(client, tenant, "query($id: ID!) { cta(id: $id) { name } }", id=created["id"])
    assert gone["data"]["cta"] is None
    again = (await gql(client, tenant, UPDATE, id=created["id"], input={"name": "z"}))["data"]
    assert again["updateCta"]["__typename"] == "NotFoundError"
