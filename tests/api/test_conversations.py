"""``/conversations``: the inbox pages and filters, one thread with traces, operator actions."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.events import EventType
from funnel.core.models import (
    Conversation,
    Organisation,
    PipelineRun,
    PipelineStep,
    ScheduledAction,
    WhatsAppChannel,
)
from funnel.core.models.enums import (
    ConversationMode,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    PipelineRunStatus,
    PipelineStage,
    ScheduledActionKind,
    ScheduledActionStatus,
)
from tests import factories
from tests.api.conftest import Tenant


async def _channel(app: FastAPI, tenant: Tenant) -> WhatsAppChannel:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        await session.commit()
        return channel


async def _conversations(
    app: FastAPI, channel: WhatsAppChannel, n: int, **overrides: Any
) -> list[Conversation]:
    made = []
    async with app.state.resources.sessionmaker() as session:
        for _ in range(n):
            lead = await factories.make_lead(session, channel)
            made.append(
                await factories.make_conversation(
                    session, lead, **{"last_message_at": factories.now(), **overrides}
                )
            )
        await session.commit()
    return made


async def test_inbox_pages_newest_first_and_stay_stable(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    existing = await _conversations(api_app, channel, 12)
    # Never messaged: sorted after every conversation that has activity.
    silent = await _conversations(api_app, channel, 3, last_message_at=None)
    await _conversations(api_app, await _channel(api_app, other_tenant), 2)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/conversations", params=params, headers=tenant.owner.headers)
        assert response.status_code == 200, response.text
        seen += [c["id"] for c in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        await _conversations(api_app, channel, 2)  # new activity lands on page one, not here
    assert len(seen) == len(set(seen)) == 15
    assert set(seen) == {str(c.id) for c in existing + silent}
    assert set(seen[-3:]) == {str(c.id) for c in silent}


async def test_filters(client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant) -> None:
    channel = await _channel(api_app, tenant)
    await _conversations(api_app, channel, 2)
    [flagged] = await _conversations(
        api_app, channel, 1, needs_attention=True, attention_raised_at=factories.now()
    )
    [human] = await _conversations(api_app, channel, 1, mode=ConversationMode.HUMAN)

    async def ids(**params: Any) -> list[str]:
        response = await client.get("/conversations", params=params, headers=tenant.owner.headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await ids(needs_attention=True) == [str(flagged.id)]
    assert await ids(mode="human") == [str(human.id)]
    assert len(await ids(channel_id=str(channel.id))) == 4
    assert await ids(assigned_user_id=str(tenant.owner.user_id)) == []


async def test_one_conversation_with_messages_and_the_bots_trace(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    [conversation] = await _conversations(api_app, channel, 1)
    async with api_app.state.resources.sessionmaker() as session:
        inbound = await factories.make_message(session, conversation, text="price?")
        run = PipelineRun(
            organisation_id=tenant.organisation_id,
            conversation_id=conversation.id,
            trigger_message_ids=[inbound.id],
            provider="offline",
            status=PipelineRunStatus.SUCCEEDED,
        )
        session.add(run)
        await session.flush()
        session.add(
            PipelineStep(
                organisation_id=tenant.organisation_id,
                run_id=run.id,
                stage=PipelineStage.RAG,
                output={"chunks": [{"id": "c1", "score": 0.8}]},
                overrides={"link_removed": True},
            )
        )
        # One transaction per message, as in production: rows of one transaction share
        # created_at (now() is the transaction's start), and the id only breaks the tie.
        await session.commit()
        for i in range(4):
            await factories.make_message(
                session,
                conversation,
                direction=MessageDirection.OUTBOUND,
                author=MessageAuthor.BOT,
                text=f"reply {i}",
                status=MessageStatus.SENT,
                pipeline_run_id=run.id,
            )
            await session.commit()
    url = f"/conversations/{conversation.id}"
    response = await client.get(url, params={"messages_limit": 3}, headers=tenant.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lead"]["id"] == str(conversation.lead_id)
    assert len(body["messages"]) == 3
    bot = body["messages"][0]
    assert bot["trace"]["steps"][0]["output"]["chunks"][0]["id"] == "c1"
    assert bot["trace"]["steps"][0]["overrides"] == {"link_removed": True}
    older = await client.get(
        url,
        params={"messages_limit": 3, "messages_cursor": body["messages_next_cursor"]},
        headers=tenant.owner.headers,
    )
    rest = older.json()["messages"]
    assert len(rest) == 2
    assert rest[-1]["id"] == str(inbound.id)
    assert rest[-1]["trace"] is None
    assert older.json()["messages_next_cursor"] is None


async def test_takeover_release_assign_close_each_emit_one_event(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    [conversation] = await _conversations(
        api_app, channel, 1, needs_attention=True, attention_raised_at=factories.now()
    )
    agent = await tenant.member("agent")
    viewer = await tenant.member("viewer")
    hub = api_app.state.resources.events
    updates = hub.subscribe(tenant.organisation_id, [EventType.CONVERSATION_UPDATED])
    attention = hub.subscribe(tenant.organisation_id, [EventType.ATTENTION_CHANGED])
    base = f"/conversations/{conversation.id}"

    async def next_event(subscription: Any) -> Any:
        return await asyncio.wait_for(subscription.queue.get(), timeout=10)

    assert (await client.post(f"{base}/takeover", headers=viewer.headers)).status_code == 403
    taken = await client.post(f"{base}/takeover", headers=agent.headers)
    assert taken.status_code == 200, taken.text
    body = taken.json()
    assert body["mode"] == "human"
    assert body["needs_attention"] is False
    assert body["assigned_user_id"] == str(agent.user_id)
    assert body["human_since"] is not None
    event = await next_event(updates)
    assert event.ids["conversation_id"] == str(conversation.id)
    assert (await next_event(attention)).ids["conversation_id"] == str(conversation.id)
    async with api_app.state.resources.sessionmaker() as session:
        release_at = (
            await session.execute(
                sa.select(ScheduledAction.due_at).where(
                    ScheduledAction.conversation_id == conversation.id,
                    ScheduledAction.kind == ScheduledActionKind.AUTO_RELEASE,
                    ScheduledAction.status == ScheduledActionStatus.PENDING,
                )
            )
        ).scalar_one()
    assert release_at > dt.datetime.now(dt.UTC)
    assert (
        await client.post(f"{base}/resolve-attention", headers=agent.headers)
    ).status_code == 409

    released = await client.post(f"{base}/release", headers=agent.headers)
    assert released.json()["mode"] == "bot"
    assert (await next_event(updates)).ids["mode"] == "bot"
    assert (await client.post(f"{base}/release", headers=agent.headers)).status_code == 409

    stranger = other_tenant.owner.user_id
    refused = await client.post(
        f"{base}/assign", json={"user_id": str(stranger)}, headers=agent.headers
    )
    assert refused.status_code == 422
    assigned = await client.post(
        f"{base}/assign", json={"user_id": str(viewer.user_id)}, headers=agent.headers
    )
    assert assigned.json()["assigned_user_id"] == str(viewer.user_id)
    await next_event(updates)

    closed = await client.post(f"{base}/close", headers=agent.headers)
    assert closed.json()["mode"] == "closed"
    assert closed.json()["closed_at"] is not None
    await next_event(updates)
    assert (await client.post(f"{base}/takeover", headers=agent.headers)).status_code == 409
