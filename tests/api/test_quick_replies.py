"""Quick replies over REST (``/quick-replies``) and GraphQL: every member lists them, admins
manage them; titles unique per organisation; the same service behind both."""

from __future__ import annotations

import httpx

from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql

RESULT = """
  __typename
  ... on QuickReply { id title text }
  ... on LimitError { message problems { field message } }
  ... on ConflictError { message }
  ... on NotFoundError { message }
"""
CREATE = f"""mutation($input: QuickReplyInput!) {{
  createQuickReply(input: $input) {{ {RESULT} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: QuickReplyUpdateInput!) {{
  updateQuickReply(id: $id, input: $input) {{ {RESULT} }} }}"""
DELETE = """mutation($id: ID!) { deleteQuickReply(id: $id) {
  __typename ... on Deleted { id } ... on NotFoundError { message } } }"""
LIST = "{ quickReplies { id title text } }"


async def test_quick_replies_over_graphql(client: httpx.AsyncClient, tenant: Tenant) -> None:
    hours = {"title": "Opening hours", "text": "We are open 9 am to 7 pm, Monday to Saturday."}
    created = (await gql(client, tenant, CREATE, input=hours))["data"]["createQuickReply"]
    assert created["__typename"] == "QuickReply", created
    assert (created["title"], created["text"]) == (hours["title"], hours["text"])

    duplicate = (await gql(client, tenant, CREATE, input=hours))["data"]["createQuickReply"]
    assert duplicate["__typename"] == "ConflictError"
    empty = (await gql(client, tenant, CREATE, input={"title": "Blank", "text": "  "}))["data"]
    assert empty["createQuickReply"]["__typename"] == "LimitError"
    assert empty["createQuickReply"]["problems"][0]["field"] == "text"

    agent = await tenant.member("agent")
    listed = (await gql(client, tenant, LIST, headers=agent.headers))["data"]["quickReplies"]
    assert listed == [{"id": created["id"], **hours}]
    # Agents use them; only admins change them.
    refused = await gql(
        client, tenant, CREATE, headers=agent.headers, input={**hours, "title": "x"}
    )
    assert refused["data"] is None or refused["data"]["createQuickReply"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    changed = (
        await gql(client, tenant, UPDATE, id=created["id"], input={"text": "Open 8 am to 8 pm."})
    )["data"]["updateQuickReply"]
    assert (changed["title"], changed["text"]) == ("Opening hours", "Open 8 am to 8 pm.")

    deleted = (await gql(client, tenant, DELETE, id=created["id"]))["data"]["deleteQuickReply"]
    assert deleted == {"__typename": "Deleted", "id": created["id"]}
    again = (await gql(client, tenant, DELETE, id=created["id"]))["data"]["deleteQuickReply"]
    assert again["__typename"] == "NotFoundError"
    assert (await gql(client, tenant, LIST))["data"]["quickReplies"] == []


async def test_quick_replies_over_rest(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.owner.headers
    created = await client.post(
        "/quick-replies", json={"title": "Address", "text": "12 Lake Road"}, headers=headers
    )
    assert created.status_code == 201, created.text
    reply_id = created.json()["id"]
    assert (
        await client.post(
            "/quick-replies", json={"title": "Address", "text": "again"}, headers=headers
        )
    ).status_code == 409
    patched = await client.patch(
        f"/quick-replies/{reply_id}", json={"title": "Our address"}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Our address"
    viewer = await tenant.member("viewer")
    listed = await client.get("/quick-replies", headers=viewer.headers)
    assert [q["title"] for q in listed.json()] == ["Our address"]
    assert (
        await client.delete(f"/quick-replies/{reply_id}", headers=viewer.headers)
    ).status_code == 403
    assert (await client.delete(f"/quick-replies/{reply_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/quick-replies/{reply_id}", headers=headers)).status_code == 404
