"""sendMessage over GraphQL: through the send planner, with its refusals as union members."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI

from funnel.core.models import Conversation, Lead
from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql, seed_inbox

SEND = """
mutation($id: ID!, $text: String, $key: String) {
  sendMessage(conversationId: $id, text: $text, idempotencyKey: $key) {
    __typename
    ... on MessageQueued { verdict queued { id text author direction status } }
    ... on WindowClosed { message }
    ... on OptedOut { message }
    ... on ValidationProblem { message field }
  }
}
"""


async def _window(app: FastAPI, conversation_id: object, *, open_: bool) -> None:
    async with app.state.resources.sessionmaker() as session:
        row = await session.get(Conversation, conversation_id)
        assert row is not None
        now = dt.datetime.now(dt.UTC)
        row.last_inbound_at = now - dt.timedelta(hours=1 if open_ else 30)
        row.window_expires_at = row.last_inbound_at + dt.timedelta(hours=24)
        await session.commit()


async def test_send_inside_and_outside_the_window(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=1)
    conversation_id = seeded.conversations[0]
    agent = await tenant.member("agent")
    await _window(api_app, conversation_id, open_=True)
    sent = await gql(
        client,
        tenant,
        SEND,
        headers=agent.headers,
        id=str(conversation_id),
        text="On it!",
        key="k1",
    )
    result = sent["data"]["sendMessage"]
    assert result["__typename"] == "MessageQueued", sent
    assert result["queued"]["text"] == "On it!"
    assert result["queued"]["author"] == "HUMAN"
    assert result["queued"]["status"] == "PENDING"
    # The same key again queues nothing new: the same message comes back.
    again = await gql(
        client,
        tenant,
        SEND,
        headers=agent.headers,
        id=str(conversation_id),
        text="On it!",
        key="k1",
    )
    assert again["data"]["sendMessage"]["queued"]["id"] == result["queued"]["id"]

    await _window(api_app, conversation_id, open_=False)
    closed = await gql(client, tenant, SEND, id=str(conversation_id), text="Still there?")
    assert closed["data"]["sendMessage"]["__typename"] == "WindowClosed", closed

    empty = await gql(client, tenant, SEND, id=str(conversation_id), text="")
    assert empty["data"]["sendMessage"]["__typename"] == "ValidationProblem"


async def test_an_opted_out_lead_gets_nothing(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=1)
    conversation_id = seeded.conversations[0]
    lead = seeded.expected[conversation_id][0]
    await _window(api_app, conversation_id, open_=True)
    async with api_app.state.resources.sessionmaker() as session:
        row = await session.get(Lead, lead.id)
        assert row is not None
        row.opted_out = True
        row.opted_out_at = dt.datetime.now(dt.UTC)
        await session.commit()
    refused = await gql(client, tenant, SEND, id=str(conversation_id), text="Hello")
    assert refused["data"]["sendMessage"]["__typename"] == "OptedOut", refused
    inbox = await gql(
        client,
        tenant,
        "query($id: ID!) { conversation(id: $id) { messages { edges { node { text } } } } }",
        id=str(conversation_id),
    )
    assert "Hello" not in str(inbox)
