"""Starting a follow-up sequence on a conversation by hand (REST and GraphQL): what gets
scheduled, what it replaces, and every reason it is refused."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.models import AuditLog, Conversation, Lead, Organisation, ScheduledAction
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    ScheduledActionKind,
    ScheduledActionStatus,
)
from tests import factories
from tests.api.conftest import Tenant

MANUAL = {
    "name": "After the showroom visit",
    "trigger": "manual",
    "steps": [
        {"delay_minutes": 30, "message_hint": "Ask how the visit went"},
        {"delay_minutes": 1440, "message_hint": "Offer a call"},
    ],
}


async def _conversation(app: FastAPI, tenant: Tenant, **overrides: Any) -> Conversation:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        organisation.quiet_hours = {}
        channel = await factories.make_channel(session, organisation)
        lead = await factories.make_lead(session, channel)
        conversation = await factories.make_conversation(session, lead, **overrides)
        await session.commit()
        return conversation


async def _sequence(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> str:
    created = await client.post("/followup-sequences", json=body, headers=tenant.owner.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _followups(app: FastAPI, conversation_id: uuid.UUID) -> list[ScheduledAction]:
    async with app.state.resources.sessionmaker() as session:
        rows = await session.execute(
            sa.select(ScheduledAction)
            .where(
                ScheduledAction.conversation_id == conversation_id,
                ScheduledAction.kind == ScheduledActionKind.FOLLOWUP,
            )
            .order_by(ScheduledAction.created_at)
        )
        return list(rows.scalars())


async def test_an_agent_starts_a_manual_sequence_replacing_the_pending_follow_ups(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation = await _conversation(api_app, tenant)
    no_reply = await _sequence(client, tenant, {**MANUAL, "name": "nudges", "trigger": "no_reply"})
    manual = await _sequence(client, tenant, MANUAL)
    agent = await tenant.member("agent")
    url = f"/conversations/{conversation.id}/followups"

    first = await client.post(url, json={"sequence_id": no_reply}, headers=agent.headers)
    assert first.status_code == 200, first.text
    started = dt.datetime.now(dt.UTC)
    second = await client.post(url, json={"sequence_id": manual}, headers=agent.headers)
    assert second.status_code == 200, second.text
    assert second.json()["id"] == str(conversation.id)

    rows = await _followups(api_app, conversation.id)
    assert [r.status for r in rows] == [
        ScheduledActionStatus.CANCELLED,
        ScheduledActionStatus.PENDING,
    ]
    pending = rows[-1]
    assert pending.payload["sequence_id"] == manual
    assert pending.payload["position"] == 1
    # Step 1's delay (30 minutes) from now, quiet hours off.
    assert dt.timedelta(minutes=29) < pending.due_at - started <= dt.timedelta(minutes=31)
    async with api_app.state.resources.sessionmaker() as session:
        audit = (
            (
                await session.execute(
                    sa.select(AuditLog).where(AuditLog.action == "conversation.followups_started")
                )
            )
            .scalars()
            .all()
        )
    assert len(audit) == 2
    assert audit[-1].changes["sequence"] == "After the showroom visit"
    assert audit[-1].actor_user_id == agent.user_id


async def test_refusals_say_why_and_schedule_nothing(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    manual = await _sequence(client, tenant, MANUAL)
    paused = await _sequence(client, tenant, {**MANUAL, "name": "paused", "is_active": False})
    theirs = await _sequence(client, other_tenant, MANUAL)
    headers = (await tenant.member("agent")).headers

    async def start(conversation: Conversation, sequence_id: str) -> httpx.Response:
        return await client.post(
            f"/conversations/{conversation.id}/followups",
            json={"sequence_id": sequence_id},
            headers=headers,
        )

    human = await _conversation(api_app, tenant, mode=ConversationMode.HUMAN)
    refused = await start(human, manual)
    assert refused.status_code == 409
    assert "human mode" in refused.json()["error"]["message"]

    lost = await _conversation(api_app, tenant, stage=ConversationStage.LOST)
    assert (await start(lost, manual)).status_code == 409

    opted_out = await _conversation(api_app, tenant)
    async with api_app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.update(Lead)
            .where(Lead.id == opted_out.lead_id)
            .values(opted_out=True, opted_out_at=sa.func.now())
        )
        await session.commit()
    refused = await start(opted_out, manual)
    assert refused.status_code == 409
    assert "opted out" in refused.json()["error"]["message"]

    ok = await _conversation(api_app, tenant)
    assert (await start(ok, paused)).status_code == 409
    # Another organisation's sequence, or none at all: not found, and its id not echoed.
    for sequence_id in (theirs, str(uuid.uuid4())):
        missing = await start(ok, sequence_id)
        assert missing.status_code == 404
        assert sequence_id not in missing.text
    viewer = await tenant.member("viewer")
    assert (
        await client.post(
            f"/conversations/{ok.id}/followups",
            json={"sequence_id": manual},
            headers=viewer.headers,
        )
    ).status_code == 403
    for conversation in (human, lost, opted_out, ok):
        assert await _followups(api_app, conversation.id) == []


async def test_graphql_starts_a_sequence_and_reports_conflicts_as_typed_errors(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    manual = await _sequence(client, tenant, MANUAL)
    ok = await _conversation(api_app, tenant)
    human = await _conversation(api_app, tenant, mode=ConversationMode.HUMAN)
    query = """
      mutation($c: ID!, $s: ID!) {
        startFollowups(conversationId: $c, sequenceId: $s) {
          __typename
          ... on Conversation { id }
          ... on ConflictError { message }
          ... on NotFoundError { message }
        }
      }
    """

    async def start(conversation_id: object, sequence_id: str) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"c": str(conversation_id), "s": sequence_id}},
            headers=tenant.owner.headers,
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["data"]["startFollowups"])

    assert await start(ok.id, manual) == {"__typename": "Conversation", "id": str(ok.id)}
    [row] = await _followups(api_app, ok.id)
    assert row.payload["sequence_id"] == manual
    conflict = await start(human.id, manual)
    assert conflict["__typename"] == "ConflictError"
    assert "human mode" in conflict["message"]
    assert (await start(ok.id, "not-an-id"))["__typename"] == "NotFoundError"
    assert await _followups(api_app, human.id) == []
