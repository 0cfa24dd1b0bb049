"""Operator actions over GraphQL, and the role matrix over every mutation in the schema."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from graphql import GraphQLNonNull

from funnel.api.graphql.schema import build_schema
from funnel.core.models import Conversation
from tests.api.conftest import Tenant
from tests.api.graphql_literals import literal
from tests.api.test_graphql_inbox import gql, seed_inbox

ACTION = """
mutation($id: ID!) {
  result: %s(conversationId: $id) {
    __typename
    ... on Conversation { id mode needsAttention assignedTo { email } closedAt }
    ... on UserError { message code }
  }
}
"""


async def act(
    client: httpx.AsyncClient, tenant: Tenant, name: str, conversation_id: uuid.UUID, **extra: Any
) -> dict[str, Any]:
    headers = extra.pop("headers", None)
    body = await gql(client, tenant, ACTION % name, headers=headers, id=str(conversation_id))
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["result"]
    return result


async def state(app: FastAPI, conversation_id: uuid.UUID) -> Conversation:
    async with app.state.resources.sessionmaker() as session:
        row: Conversation | None = await session.get(Conversation, conversation_id)
        assert row is not None
        return row


async def test_takeover_release_resolve_and_close(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=1)
    conversation_id = seeded.conversations[0]
    async with api_app.state.resources.sessionmaker() as session:
        row = await session.get(Conversation, conversation_id)
        assert row is not None
        row.needs_attention = True
        row.attention_raised_at = row.created_at
        await session.commit()
    agent = await tenant.member("agent")

    taken = await act(client, tenant, "takeover", conversation_id, headers=agent.headers)
    assert taken["__typename"] == "Conversation"
    assert taken["mode"] == "HUMAN"
    assert taken["assignedTo"] == {"email": agent.email}
    # Taking over is the answer to "a person is needed": the flag is resolved with it.
    assert taken["needsAttention"] is False
    assert (await state(api_app, conversation_id)).mode.value == "human"

    released = await act(client, tenant, "release", conversation_id, headers=agent.headers)
    assert released["mode"] == "BOT"
    again = await act(client, tenant, "release", conversation_id, headers=agent.headers)
    assert again["__typename"] == "ConflictError"

    unflagged = await act(client, tenant, "resolveAttention", conversation_id)
    assert unflagged["__typename"] == "ConflictError"

    closed = await act(client, tenant, "close", conversation_id)
    assert closed["mode"] == "CLOSED"
    assert closed["closedAt"] is not None
    reopened = await act(client, tenant, "takeover", conversation_id)
    assert reopened["__typename"] == "ConflictError"
    # The refusal committed nothing: still closed, still assigned to the agent.
    row = await state(api_app, conversation_id)
    assert row.mode.value == "closed"
    assert row.assigned_user_id == agent.user_id


async def test_resolve_attention_takes_it_out_of_the_queue(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=1)
    conversation_id = seeded.conversations[0]
    async with api_app.state.resources.sessionmaker() as session:
        row = await session.get(Conversation, conversation_id)
        assert row is not None
        row.needs_attention = True
        row.attention_raised_at = row.created_at
        await session.commit()
    queue = "{ conversations(filter: {needsAttention: true}) { edges { node { id } } } }"
    assert len((await gql(client, tenant, queue))["data"]["conversations"]["edges"]) == 1
    resolved = await act(client, tenant, "resolveAttention", conversation_id)
    assert resolved["needsAttention"] is False
    assert (await gql(client, tenant, queue))["data"]["conversations"]["edges"] == []


async def test_assign_to_members_only(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=1)
    conversation_id = str(seeded.conversations[0])
    agent = await tenant.member("agent")
    document = """
    mutation($id: ID!, $user: ID) {
      assign(conversationId: $id, userId: $user) {
        __typename
        ... on Conversation { assignedTo { email } }
        ... on UserError { code }
      }
    }
    """
    body = await gql(client, tenant, document, id=conversation_id, user=str(agent.user_id))
    assert body["data"]["assign"] == {
        "__typename": "Conversation",
        "assignedTo": {"email": agent.email},
    }
    # Someone of another organisation is not an assignee, and is not revealed to exist.
    body = await gql(
        client, tenant, document, id=conversation_id, user=str(other_tenant.owner.user_id)
    )
    assert body["data"]["assign"]["__typename"] == "ValidationError"
    assert other_tenant.owner.email not in str(body)
    body = await gql(client, tenant, document, id=conversation_id, user=None)
    assert body["data"]["assign"] == {"__typename": "Conversation", "assignedTo": None}


#: Mutations of the caller's own state, not the organisation's: a viewer may call them.
PERSONAL_MUTATIONS = {"markConversationRead"}


async def test_a_viewer_can_call_no_mutation(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    """Generated from the schema: every mutation, called by a viewer with its required
    arguments filled, is refused by its permission class before it runs (except the few that
    change only the viewer's own state)."""
    seeded = await seed_inbox(api_app, tenant.organisation_id, 1, messages_each=1)
    conversation_id = str(seeded.conversations[0])
    viewer = await tenant.member("viewer")
    schema = build_schema(introspection=True)
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    failures: list[str] = []
    for name, field in mutation_type.fields.items():
        arguments = []
        for arg_name, argument in field.args.items():
            if not isinstance(argument.type, GraphQLNonNull):
                continue
            value = (
                f'"{conversation_id}"' if arg_name == "conversationId" else literal(argument.type)
            )
            arguments.append(f"{arg_name}: {value}")
        args = f"({', '.join(arguments)})" if arguments else ""
        response = await client.post(
            "/graphql",
            json={"query": f"mutation {{ result: {name}{args} {{ __typename }} }}"},
            headers=viewer.headers,
        )
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if name in PERSONAL_MUTATIONS:
            if (body.get("data") or {}).get("result") is None:
                failures.append(f"{name}: a viewer was refused their own state: {body}")
            continue
        if (body.get("data") or {}).get("result") is not None or "FORBIDDEN" not in codes:
            failures.append(f"{name}: a viewer got {body}")
    assert not failures, "\n".join(failures)
    # The matrix covered the operator actions, not just the foundation's admin mutations.
    assert {"takeover", "release", "assign", "close", "resolveAttention"} <= set(
        mutation_type.fields
    )
    assert (await state(api_app, seeded.conversations[0])).mode.value == "bot"
