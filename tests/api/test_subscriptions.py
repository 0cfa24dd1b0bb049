"""Live updates across API replicas: two `funnel api serve` processes on one database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.events import EventType, emit
from funnel.core.settings import DatabaseSettings
from tests.api.conftest import PASSWORD
from tests.api.processes import api_process

pytestmark = pytest.mark.slow


async def register(url: str) -> dict[str, Any]:
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


@contextlib.asynccontextmanager
async def subscription(url: str, token: str, query: str) -> AsyncIterator[Any]:
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
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield ws


async def committed_emit(database_url: str, organisation_id: uuid.UUID, **ids: Any) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    try:
        async with session_factory(engine)() as session:
            await emit(session, organisation_id, EventType.CONVERSATION_UPDATED, **ids)
            await session.commit()
    finally:
        await engine.dispose()


async def rolled_back_emit(database_url: str, organisation_id: uuid.UUID, **ids: Any) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    try:
        async with session_factory(engine)() as session:
            session: AsyncSession
            await emit(session, organisation_id, EventType.CONVERSATION_UPDATED, **ids)
            await session.rollback()
    finally:
        await engine.dispose()


async def test_an_event_committed_through_one_replica_reaches_a_client_on_the_other(
    database_url: str,
) -> None:
    with api_process(database_url) as replica_a, api_process(database_url) as replica_b:
        ours = await register(replica_a)
        theirs = await register(replica_a)
        org = uuid.UUID(ours["organisation_id"])
        query = "subscription { conversationUpdated { type conversationId } }"
        async with subscription(replica_b, ours["access_token"], query) as ws:
            await asyncio.sleep(0.5)  # the subscribe message is processed before events flow
            rolled_back, foreign, delivered = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            await rolled_back_emit(database_url, org, conversation_id=rolled_back)
            await committed_emit(
                database_url, uuid.UUID(theirs["organisation_id"]), conversation_id=foreign
            )
            await committed_emit(database_url, org, conversation_id=delivered)
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] == "next", message
            assert message["payload"]["data"]["conversationUpdated"] == {
                "type": "conversation.updated",
                "conversationId": str(delivered),
            }
            # Nothing else was queued: the rolled-back and the other tenant's events never came.
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 1.0)


async def test_websocket_needs_credentials_in_connection_init(database_url: str) -> None:
    with api_process(database_url) as replica:
        ws_url = replica.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
