"""Leads over GraphQL: the filtered list, one lead with its conversations and notes, and the
changes operators make, through the same service as REST."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from funnel.core.models import Lead
from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql, seed_inbox

LEADS = """
query($first: Int, $after: String, $filter: LeadFilter) {
  leads(first: $first, after: $after, filter: $filter) {
    edges { node { id name tags optedOut } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LEAD = """
query($id: ID!) {
  lead(id: $id) {
    lead { id name tags optedOut }
    conversations(first: 5) { edges { node { id lastMessage { text } } } }
    notes { body }
  }
}
"""


async def test_leads_page_and_filter(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 5, messages_each=1)
    seen: list[str] = []
    after = None
    while True:
        body = await gql(client, tenant, LEADS, first=2, after=after)
        assert "errors" not in body, body
        connection = body["data"]["leads"]
        seen += [e["node"]["id"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(str(lead.id) for lead, _, _ in seeded.expected.values())
    assert len(seen) == 5
    name = "Customer 003"
    body = await gql(client, tenant, LEADS, filter={"search": name})
    assert [e["node"]["name"] for e in body["data"]["leads"]["edges"]] == [name]
    body = await gql(client, tenant, LEADS, first=101)
    assert "first must be between 1 and 100" in body["errors"][0]["message"]


async def test_lead_detail_and_operator_changes(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=2)
    lead, _, newest_text = seeded.expected[seeded.conversations[0]]
    agent = await tenant.member("agent")
    lead_id = str(lead.id)

    renamed = await gql(
        client,
        tenant,
        'mutation($id: ID!) { updateLead(id: $id, input: {name: "Asha"}) '
        "{ __typename ... on Lead { name } } }",
        headers=agent.headers,
        id=lead_id,
    )
    assert renamed["data"]["updateLead"] == {"__typename": "Lead", "name": "Asha"}
    tagged = await gql(
        client,
        tenant,
        'mutation($id: ID!) { tagLead(id: $id, add: ["vip", "pune"], remove: ["none"]) '
        "{ ... on Lead { tags } } }",
        headers=agent.headers,
        id=lead_id,
    )
    assert tagged["data"]["tagLead"] == {"tags": ["vip", "pune"]}
    note = await gql(
        client,
        tenant,
        'mutation($id: ID!) { addLeadNote(id: $id, body: "Call after 6") '
        "{ __typename ... on Note { body } } }",
        headers=agent.headers,
        id=lead_id,
    )
    assert note["data"]["addLeadNote"] == {"__typename": "Note", "body": "Call after 6"}
    empty = await gql(
        client,
        tenant,
        'mutation($id: ID!) { addLeadNote(id: $id, body: "  ") { __typename } }',
        id=lead_id,
    )
    assert empty["data"]["addLeadNote"]["__typename"] == "ValidationError"
    opted = await gql(
        client,
        tenant,
        "mutation($id: ID!) { optOutLead(id: $id) { ... on Lead { optedOut } } }",
        id=lead_id,
    )
    assert opted["data"]["optOutLead"] == {"optedOut": True}

    detail = (await gql(client, tenant, LEAD, id=lead_id))["data"]["lead"]
    assert detail["lead"] == {
        "id": lead_id,
        "name": "Asha",
        "tags": ["vip", "pune"],
        "optedOut": True,
    }
    assert [e["node"]["lastMessage"]["text"] for e in detail["conversations"]["edges"]] == [
        newest_text
    ]
    assert detail["notes"] == [{"body": "Call after 6"}]

    # Erasure is for admins; the agent is refused, the owner erases, and the lead is gone.
    refused = await gql(
        client,
        tenant,
        "mutation($id: ID!) { eraseLead(id: $id) { __typename } }",
        headers=agent.headers,
        id=lead_id,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    erased = await gql(
        client,
        tenant,
        "mutation($id: ID!) { eraseLead(id: $id) { ... on Erased { conversations messages } } }",
        id=lead_id,
    )
    assert erased["data"]["eraseLead"] == {"conversations": 1, "messages": 2}
    assert (await gql(client, tenant, LEAD, id=lead_id))["data"]["lead"] is None
    async with api_app.state.resources.sessionmaker() as session:
        assert await session.get(Lead, uuid.UUID(lead_id)) is None
