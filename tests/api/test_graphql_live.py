"""From the worker to the dashboard: messages and statuses the worker stores reach GraphQL
subscriptions on every API replica, for the right organisation only, once committed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.inbound.channels import load_channel
from funnel.core.inbound.service import ingest_messages, record_status
from funnel.core.models import Conversation, Message, Organisation
from funnel.core.models.enums import MessageAuthor, MessageDirection, MessageStatus
from funnel.core.settings import DatabaseSettings
from funnel.core.whatsapp.webhook import WebhookEvent
from tests import factories
from tests.api.conftest import PASSWORD
from tests.api.processes import api_process
from tests.pipeline.support import epoch, events_of, status_webhook, text_webhook

pytestmark = pytest.mark.slow

SUBSCRIPTIONS = {
    "created": "subscription { messageCreated { conversationId messageIds leadId } }",
    "status": "subscription { messageStatusChanged { conversationId messageIds } }",
    "conversation": "subscription { conversationUpdated { type conversationId } }",
}


@contextlib.asynccontextmanager
async def subscribed(url: str, token: str, operations: dict[str, str]) -> AsyncIterator[Any]:
    """One graphql-transport-ws connection carrying several subscriptions, by operation id."""
    import websockets

    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        frame = await asyncio.wait_for(ws.recv(), 10)
        # graphql-transport-ws is text frames: a browser's client rejects a binary one (4004).
        assert isinstance(frame, str), f"a binary frame: {frame!r}"
        ack = json.loads(frame)
        assert ack["type"] == "connection_ack", ack
        for op_id, query in operations.items():
            await ws.send(
                json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}})
            )
        await asyncio.sleep(0.5)  # the subscribe messages are processed before events flow
        yield ws


async def register(url: str) -> dict[str, Any]:
    """A new organisation and its owner's tokens, through the API process."""
    slug = f"live-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/auth/register",
            json={
                "organisation_name": slug,
                "slug": slug,
                "name": "Owner",
                "email": f"owner@{slug}.example",
                "password": PASSWORD,
            },
        )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def receive(ws: Any, count: int) -> dict[str, list[dict[str, Any]]]:
    """The next ``count`` results, grouped by operation id."""
    got: dict[str, list[dict[str, Any]]] = {}
    for _ in range(count):
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "next", message
        data = message["payload"]["data"]
        got.setdefault(message["id"], []).append(next(iter(data.values())))
    return got


async def ensure_nothing_more(ws: Any) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 1.0)


def webhook_events(payload: dict[str, Any], organisation_id: uuid.UUID) -> list[WebhookEvent]:
    """What the worker ingests, built the way it builds it (through the Kafka contract)."""
    return [e.webhook_event() for e in events_of(payload, organisation_id)]


async def make_channel(engine: AsyncEngine, organisation_id: uuid.UUID) -> tuple[str, str]:
    async with session_factory(engine)() as session:
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        await session.commit()
        return channel.phone_number_id, channel.waba_id


async def worker_ingest(
    engine: AsyncEngine, organisation_id: uuid.UUID, payload: dict[str, Any], *, commit: bool
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The worker's message path: route by phone number, scope, ingest, commit (or not)."""
    phone_number_id = payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
    async with session_factory(engine)() as session:
        channel = await load_channel(session, phone_number_id)
        await session.rollback()
        await scope_to_organisation(session, channel.organisation_id)
        result = await ingest_messages(session, channel, webhook_events(payload, organisation_id))
        if commit:
            await session.commit()
        else:
            await session.rollback()
        return result.conversation_id, [m.id for m in result.new]


async def test_a_message_the_worker_stores_reaches_subscribers_on_every_replica(
    database_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    try:
        with api_process(database_url) as replica_a, api_process(database_url) as replica_b:
            ours, theirs = await register(replica_a), await register(replica_a)
            org, other_org = (
                uuid.UUID(ours["organisation_id"]),
                uuid.UUID(theirs["organisation_id"]),
            )
            phone, waba = await make_channel(engine, org)
            other_phone, other_waba = await make_channel(engine, other_org)
            async with (
                subscribed(replica_b, ours["access_token"], SUBSCRIPTIONS) as on_b,
                subscribed(
                    replica_a, ours["access_token"], {"created": SUBSCRIPTIONS["created"]}
                ) as on_a,
                subscribed(replica_a, theirs["access_token"], SUBSCRIPTIONS) as foreign,
            ):
                # A rolled-back ingest announces nothing.
                await worker_ingest(
                    engine,
                    org,
                    text_webhook(
                        phone_number_id=phone,
                        waba_id=waba,
                        wa_id="919800000001",
                        text="lost",
                        timestamp=epoch(),
                    ),
                    commit=False,
                )
                payload = text_webhook(
                    phone_number_id=phone,
                    waba_id=waba,
                    wa_id="919800000001",
                    text="Do you ship to Pune?",
                    timestamp=epoch(),
                )
                conversation_id, message_ids = await worker_ingest(
                    engine, org, payload, commit=True
                )
                assert len(message_ids) == 1

                got = await receive(on_b, 2)
                assert got["created"] == [
                    {
                        "conversationId": str(conversation_id),
                        "messageIds": [str(message_ids[0])],
                        "leadId": got["created"][0]["leadId"],
                    }
                ]
                assert got["created"][0]["leadId"] is not None
                assert got["conversation"] == [
                    {"type": "conversation.updated", "conversationId": str(conversation_id)}
                ]
                # The other replica's client got the same event: fan-out is not process memory.
                assert (await receive(on_a, 1))["created"][0]["messageIds"] == [str(message_ids[0])]

                # A redelivery of the same webhook stores nothing and announces nothing.
                _, again = await worker_ingest(engine, org, payload, commit=True)
                assert again == []
                await ensure_nothing_more(on_b)

                # The subscriber can read what the event points at, through GraphQL.
                async with httpx.AsyncClient(base_url=replica_b) as client:
                    response = await client.post(
                        "/graphql",
                        json={
                            "query": "query($id: ID!) { message(id: $id) { text author } }",
                            "variables": {"id": str(message_ids[0])},
                        },
                        headers={"Authorization": f"Bearer {ours['access_token']}"},
                    )
                assert response.json()["data"]["message"] == {
                    "text": "Do you ship to Pune?",
                    "author": "LEAD",
                }

                # Another organisation's traffic reaches its own subscribers, never ours.
                await worker_ingest(
                    engine,
                    other_org,
                    text_webhook(
                        phone_number_id=other_phone,
                        waba_id=other_waba,
                        wa_id="919800000002",
                        text="hello",
                        timestamp=epoch(),
                    ),
                    commit=True,
                )
                assert set(await receive(foreign, 2)) == {"created", "conversation"}
                await ensure_nothing_more(on_b)
                await ensure_nothing_more(on_a)
    finally:
        await engine.dispose()


async def test_a_delivery_status_reaches_message_status_subscribers(database_url: str) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    try:
        with api_process(database_url) as replica:
            ours = await register(replica)
            org = uuid.UUID(ours["organisation_id"])
            phone, waba = await make_channel(engine, org)
            conversation_id, _ = await worker_ingest(
                engine,
                org,
                text_webhook(
                    phone_number_id=phone,
                    waba_id=waba,
                    wa_id="919800000003",
                    text="hi",
                    timestamp=epoch(),
                ),
                commit=True,
            )
            wamid = f"wamid.OUT{uuid.uuid4().hex}"
            async with session_factory(engine)() as session:
                conversation = await session.get(Conversation, conversation_id)
                assert conversation is not None
                sent = await factories.make_message(
                    session,
                    conversation,
                    direction=MessageDirection.OUTBOUND,
                    author=MessageAuthor.BOT,
                    status=MessageStatus.SENT,
                    wamid=wamid,
                )
                await session.commit()
            query = (
                "subscription($c: ID) { messageStatusChanged(conversationId: $c) "
                "{ conversationId messageIds } }"
            )
            async with subscribed(replica, ours["access_token"], {}) as ws:
                await ws.send(
                    json.dumps(
                        {
                            "id": "status",
                            "type": "subscribe",
                            "payload": {"query": query, "variables": {"c": str(conversation_id)}},
                        }
                    )
                )
                await asyncio.sleep(0.5)
                for status in ("delivered", "delivered", "read"):
                    async with session_factory(engine)() as session:
                        await scope_to_organisation(session, org)
                        (event,) = webhook_events(
                            status_webhook(
                                phone_number_id=phone,
                                waba_id=waba,
                                wa_id="919800000003",
                                wamid=wamid,
                                status=status,
                                timestamp=epoch(),
                            ),
                            org,
                        )
                        await record_status(session, org, event)
                        await session.commit()
                got = await receive(ws, 2)
                # delivered, then read; the duplicate "delivered" changed nothing and said nothing.
                assert (
                    got["status"]
                    == [{"conversationId": str(conversation_id), "messageIds": [str(sent.id)]}] * 2
                )
                await ensure_nothing_more(ws)
            async with session_factory(engine)() as session:
                status_now = await session.scalar(
                    sa.select(Message.status).where(Message.id == sent.id)
                )
            assert status_now is MessageStatus.READ
    finally:
        await engine.dispose()
