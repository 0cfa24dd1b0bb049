"""Per-operator unread state: ``Conversation.unreadCount``, ``markConversationRead`` and REST's
``POST /conversations/{id}/read``."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
from fastapi import FastAPI

from funnel.core.models import Conversation
from funnel.core.models.enums import MessageAuthor, MessageDirection
from tests import factories
from tests.api.conftest import Tenant
from tests.api.querycount import count_queries
from tests.api.test_graphql_inbox import gql, seed_inbox

UNREAD = "{ conversations(first: 50) { edges { node { id unreadCount } } } }"
MARK = """mutation($id: ID!) { markConversationRead(conversationId: $id) {
  __typename ... on Conversation { id unreadCount } ... on NotFoundError { message } } }"""


async def _unread(
    client: httpx.AsyncClient, tenant: Tenant, headers: dict[str, str]
) -> dict[str, int]:
    body = await gql(client, tenant, UNREAD, headers=headers)
    assert "errors" not in body, body
    edges = body["data"]["conversations"]["edges"]
    return {e["node"]["id"]: e["node"]["unreadCount"] for e in edges}


async def _customer_says(
    app: FastAPI, conversation_id: uuid.UUID, *, replied: bool = False
) -> None:
    async with app.state.resources.sessionmaker() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        await factories.make_message(session, conversation, created_at=later)
        if replied:
            await factories.make_message(
                session,
                conversation,
                direction=MessageDirection.OUTBOUND,
                author=MessageAuthor.BOT,
                created_at=later + dt.timedelta(seconds=1),
            )
        await session.commit()


async def test_each_operator_has_their_own_unread_counts(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 3, messages_each=2)
    agent = await tenant.member("agent")
    viewer = await tenant.member("viewer")
    first, second = (str(c) for c in seeded.conversations[:2])
    assert set((await _unread(client, tenant, tenant.owner.headers)).values()) == {2}

    marked = (await gql(client, tenant, MARK, headers=agent.headers, id=first))["data"]
    assert marked["markConversationRead"] == {
        "__typename": "Conversation",
        "id": first,
        "unreadCount": 0,
    }
    assert (await _unread(client, tenant, agent.headers))[first] == 0
    assert (await _unread(client, tenant, agent.headers))[second] == 2
    # Nobody else's marker moved.
    assert (await _unread(client, tenant, tenant.owner.headers))[first] == 2

    # A viewer reads too, over REST this time.
    response = await client.post(f"/conversations/{second}/read", headers=viewer.headers)
    assert response.status_code == 204, response.text
    assert (await _unread(client, tenant, viewer.headers))[second] == 0

    # The customer writes again: unread for the agent again, one message (the bot's reply
    # does not count).
    await _customer_says(api_app, uuid.UUID(first), replied=True)
    assert (await _unread(client, tenant, agent.headers))[first] == 1
    assert (await _unread(client, tenant, tenant.owner.headers))[first] == 3


async def test_unknown_conversation_and_api_keys(client: httpx.AsyncClient, tenant: Tenant) -> None:
    missing = str(uuid.uuid4())
    body = await gql(client, tenant, MARK, id=missing)
    assert body["data"]["markConversationRead"]["__typename"] == "NotFoundError"
    response = await client.post(f"/conversations/{missing}/read", headers=tenant.owner.headers)
    assert response.status_code == 404
    # An integration has no read markers of its own.
    created = await client.post(
        "/settings/api-keys",
        json={"name": "crm", "scopes": ["conversations:read", "conversations:write"]},
        headers=tenant.owner.headers,
    )
    assert created.status_code == 201, created.text
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    response = await client.post(f"/conversations/{missing}/read", headers=key)
    assert response.status_code == 403


async def test_unread_counts_cost_one_statement_per_page(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    async def cost() -> int:
        with count_queries(api_app) as counter:
            await _unread(client, tenant, tenant.owner.headers)
        return counter.count

    await seed_inbox(api_app, tenant.organisation_id, 2)
    few = await cost()
    await seed_inbox(api_app, tenant.organisation_id, 20)
    assert await cost() == few
