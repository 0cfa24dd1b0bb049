"""The GraphQL inbox: conversations by latest activity with their lead and last message, a
conversation's messages with each bot message's trace, filters, pagination and query counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from funnel.core.models import Conversation, Lead, Organisation, PipelineRun, PipelineStep
from funnel.core.models.enums import (
    ConversationMode,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    PipelineRunStatus,
    PipelineStage,
)
from tests import factories
from tests.api.conftest import Tenant
from tests.api.querycount import count_queries

INBOX = """
query Inbox($first: Int, $after: String, $filter: ConversationFilter) {
  conversations(first: $first, after: $after, filter: $filter) {
    edges {
      cursor
      node {
        id mode needsAttention lastMessageAt lastMessagePreview windowOpen
        lead { id name waId stage }
        lastMessage { id text author direction status }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

BASE = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@dataclasses.dataclass
class Seeded:
    #: Conversation ids, newest activity first (the inbox order).
    conversations: list[uuid.UUID]
    #: conversation id → (lead, newest message id, newest message text)
    expected: dict[uuid.UUID, tuple[Lead, uuid.UUID, str]]
    channel_id: uuid.UUID


async def seed_inbox(
    app: FastAPI, organisation_id: uuid.UUID, count: int, messages_each: int = 3
) -> Seeded:
    """``count`` conversations, each with ``messages_each`` messages; activity one minute apart."""
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        expected: dict[uuid.UUID, tuple[Lead, uuid.UUID, str]] = {}
        order: list[tuple[dt.datetime, uuid.UUID]] = []
        for i in range(count):
            lead = await factories.make_lead(session, channel, name=f"Customer {i:03d}")
            last_at = BASE + dt.timedelta(minutes=i)
            conversation = await factories.make_conversation(
                session, lead, last_message_at=last_at, last_message_preview=f"latest {i}"
            )
            newest = None
            for j in range(messages_each):
                at = last_at - dt.timedelta(seconds=messages_each - j)
                newest = await factories.make_message(
                    session, conversation, text=f"c{i} m{j}", created_at=at
                )
            assert newest is not None
            expected[conversation.id] = (lead, newest.id, newest.text or "")
            order.append((last_at, conversation.id))
        await session.commit()
    return Seeded(
        conversations=[c for _, c in sorted(order, reverse=True)],
        expected=expected,
        channel_id=channel.id,
    )


async def gql(
    client: httpx.AsyncClient,
    tenant: Tenant,
    query: str,
    headers: dict[str, str] | None = None,
    **variables: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=headers or tenant.owner.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_inbox_lists_conversations_newest_first_with_lead_and_last_message(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 5)
    body = await gql(client, tenant, INBOX, first=10)
    assert "errors" not in body, body
    edges = body["data"]["conversations"]["edges"]
    assert [uuid.UUID(e["node"]["id"]) for e in edges] == seeded.conversations
    for edge in edges:
        node = edge["node"]
        lead, newest_id, newest_text = seeded.expected[uuid.UUID(node["id"])]
        assert node["lead"]["id"] == str(lead.id)
        assert node["lead"]["name"] == lead.name
        assert node["lastMessage"] == {
            "id": str(newest_id),
            "text": newest_text,
            "author": "LEAD",
            "direction": "INBOUND",
            "status": "RECEIVED",
        }
    assert body["data"]["conversations"]["pageInfo"]["hasNextPage"] is False


async def test_inbox_pages_with_cursors_without_repeating_or_skipping(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 7, messages_each=1)
    seen: list[uuid.UUID] = []
    after = None
    pages = 0
    while True:
        body = await gql(client, tenant, INBOX, first=3, after=after)
        connection = body["data"]["conversations"]
        seen += [uuid.UUID(e["node"]["id"]) for e in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == seeded.conversations
    assert pages == 3


async def test_inbox_filters(client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 4, messages_each=1)
    flagged, human = seeded.conversations[1], seeded.conversations[2]
    async with api_app.state.resources.sessionmaker() as session:
        row = await session.get(Conversation, flagged)
        assert row is not None
        row.needs_attention = True
        row.attention_raised_at = BASE
        row = await session.get(Conversation, human)
        assert row is not None
        row.mode = ConversationMode.HUMAN
        await session.commit()

    async def ids(filter: dict[str, Any]) -> list[str]:
        body = await gql(client, tenant, INBOX, first=50, filter=filter)
        assert "errors" not in body, body
        return [e["node"]["id"] for e in body["data"]["conversations"]["edges"]]

    assert await ids({"needsAttention": True}) == [str(flagged)]
    assert await ids({"mode": "HUMAN"}) == [str(human)]
    assert len(await ids({"mode": "BOT"})) == 3
    lead = seeded.expected[seeded.conversations[3]][0]
    assert await ids({"search": lead.name}) == [str(seeded.conversations[3])]
    assert await ids({"search": "no such customer"}) == []
    assert len(await ids({"channelId": str(seeded.channel_id)})) == 4
    assert await ids({"channelId": str(uuid.uuid4())}) == []
    # A wildcard typed by the user is a literal, not a pattern.
    assert await ids({"search": "%"}) == []


async def test_page_size_is_bounded(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = await gql(client, tenant, INBOX, first=101)
    assert body["data"] is None
    assert "first must be between 1 and 100" in body["errors"][0]["message"]
    body = await gql(client, tenant, INBOX, first=10, after="not-a-cursor")
    assert "invalid cursor" in body["errors"][0]["message"]


async def _inbox_cost(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, first: int
) -> tuple[int, int]:
    with count_queries(app) as counter:
        body = await gql(client, tenant, INBOX, first=first)
    assert "errors" not in body, body
    edges = body["data"]["conversations"]["edges"]
    assert all(e["node"]["lead"] and e["node"]["lastMessage"] for e in edges)
    return counter.count, len(edges)


async def test_inbox_page_costs_a_fixed_number_of_queries(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    await seed_inbox(api_app, tenant.organisation_id, 50, messages_each=2)
    small, small_rows = await _inbox_cost(client, api_app, tenant, 10)
    large, large_rows = await _inbox_cost(client, api_app, tenant, 50)
    assert (small_rows, large_rows) == (10, 50)
    assert small == large
    # Authentication, then the page with its leads and last messages in one statement.
    assert large == 2, large


CONVERSATION = """
query One($id: ID!, $first: Int, $after: String) {
  conversation(id: $id) {
    id
    lead { name }
    messages(first: $first, after: $after) {
      edges {
        node {
          id text author
          trace {
            status provider inputTokens
            steps { stage model overrides }
            knowledgeUsed
          }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def test_conversation_messages_newest_first_with_the_bot_trace(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=4)
    conversation_id = seeded.conversations[0]
    async with api_app.state.resources.sessionmaker() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        run = PipelineRun(
            organisation_id=tenant.organisation_id,
            conversation_id=conversation_id,
            provider="offline",
            status=PipelineRunStatus.SUCCEEDED,
            input_tokens=321,
        )
        session.add(run)
        await session.flush()
        for offset, (stage, output) in enumerate(
            (
                (PipelineStage.RAG, {"chunks": [{"document": "Shipping", "score": 0.9}]}),
                (PipelineStage.POLICY, None),
            )
        ):
            session.add(
                PipelineStep(
                    organisation_id=tenant.organisation_id,
                    run_id=run.id,
                    stage=stage,
                    started_at=BASE + dt.timedelta(seconds=offset),
                    model="small",
                    output=output,
                    overrides={"rules": ["cta_dropped"]} if stage is PipelineStage.POLICY else {},
                )
            )
        reply = await factories.make_message(
            session,
            conversation,
            direction=MessageDirection.OUTBOUND,
            author=MessageAuthor.BOT,
            status=MessageStatus.PENDING,
            wamid=None,
            text="Shipping is free above 799.",
            pipeline_run_id=run.id,
            created_at=BASE + dt.timedelta(hours=1),
        )
        await session.commit()

    body = await gql(client, tenant, CONVERSATION, id=str(conversation_id), first=3)
    assert "errors" not in body, body
    messages = body["data"]["conversation"]["messages"]
    nodes = [e["node"] for e in messages["edges"]]
    assert [n["text"] for n in nodes] == ["Shipping is free above 799.", "c0 m3", "c0 m2"]
    assert nodes[0]["id"] == str(reply.id)
    trace = nodes[0]["trace"]
    assert trace["provider"] == "offline"
    assert trace["inputTokens"] == 321
    assert [s["stage"] for s in trace["steps"]] == ["RAG", "POLICY"]
    assert trace["steps"][1]["overrides"] == {"rules": ["cta_dropped"]}
    assert trace["knowledgeUsed"] == {"chunks": [{"document": "Shipping", "score": 0.9}]}
    # A customer's message has no trace of its own.
    assert nodes[1]["trace"] is None
    assert messages["pageInfo"]["hasNextPage"] is True

    rest = await gql(
        client,
        tenant,
        CONVERSATION,
        id=str(conversation_id),
        first=3,
        after=messages["pageInfo"]["endCursor"],
    )
    older = [e["node"]["text"] for e in rest["data"]["conversation"]["messages"]["edges"]]
    assert older == ["c0 m1", "c0 m0"]
    assert rest["data"]["conversation"]["messages"]["pageInfo"]["hasNextPage"] is False


async def test_messages_of_many_conversations_load_in_one_batch(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    await seed_inbox(api_app, tenant.organisation_id, 20, messages_each=3)
    query = (
        "query($n: Int) { conversations(first: $n) "
        "{ edges { node { messages(first: 2) { edges { node { id } } } } } } }"
    )

    async def cost(n: int) -> int:
        with count_queries(api_app) as counter:
            body = await gql(client, tenant, query, n=n)
        assert "errors" not in body, body
        edges = body["data"]["conversations"]["edges"]
        assert len(edges) == n
        assert all(len(e["node"]["messages"]["edges"]) == 2 for e in edges)
        return counter.count

    assert await cost(2) == await cost(20)


async def test_another_organisation_sees_none_of_it(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 3, messages_each=1)
    body = await gql(client, other_tenant, INBOX, headers=other_tenant.owner.headers, first=50)
    assert body["data"]["conversations"]["edges"] == []
    # Filtering by A's channel from B matches nothing rather than A's rows.
    body = await gql(
        client,
        other_tenant,
        INBOX,
        headers=other_tenant.owner.headers,
        filter={"channelId": str(seeded.channel_id)},
    )
    assert body["data"]["conversations"]["edges"] == []
    lead, message_id, _ = seeded.expected[seeded.conversations[0]]
    body = await gql(
        client,
        other_tenant,
        "query($id: ID!) { message(id: $id) { id text } }",
        headers=other_tenant.owner.headers,
        id=str(message_id),
    )
    assert body["data"]["message"] is None
    assert lead.wa_id is not None
    assert lead.wa_id not in str(body)


async def test_viewer_reads_the_inbox(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    await seed_inbox(api_app, tenant.organisation_id, 2, messages_each=1)
    viewer = await tenant.member("viewer")
    body = await gql(client, tenant, INBOX, headers=viewer.headers, first=5)
    assert len(body["data"]["conversations"]["edges"]) == 2


async def test_anonymous_callers_get_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": INBOX})
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
