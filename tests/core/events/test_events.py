"""Live-update events: payload rules, in-process fan-out, and LISTEN/NOTIFY on the real server."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.events import EventType, emit
from funnel.core.events.listener import EventHub, asyncpg_dsn
from funnel.core.events.publisher import MAX_IDS_PER_FIELD, Event, build_event
from funnel.core.settings import DatabaseSettings
from tests.factories import make_organisation


def test_payload_carries_ids_and_round_trips() -> None:
    org, conversation = uuid.uuid4(), uuid.uuid4()
    event = build_event(
        org, "message.created", conversation_id=conversation, message_ids=[conversation]
    )
    parsed = Event.from_payload(event.to_payload())
    assert parsed == event
    assert parsed.ids == {"conversation_id": str(conversation), "message_ids": [str(conversation)]}


def test_payload_rules() -> None:
    org = uuid.uuid4()
    with pytest.raises(ValueError, match="reserved"):
        build_event(org, EventType.MESSAGE_STATUS, organisation_id=uuid.uuid4())
    with pytest.raises(TypeError):
        build_event(org, EventType.MESSAGE_STATUS, text={"body": "hello"})
    with pytest.raises(ValueError, match="at most"):
        build_event(org, EventType.MESSAGE_STATUS, ids=[uuid.uuid4()] * (MAX_IDS_PER_FIELD + 1))
    with pytest.raises(ValueError, match="8000"):
        build_event(org, EventType.MESSAGE_STATUS, **{f"k{i}": "x" * 100 for i in range(80)})
    with pytest.raises(ValueError, match="is not a valid EventType"):
        build_event(org, "message.deleted")


def test_fan_out_is_by_organisation_and_type() -> None:
    hub = EventHub("postgresql+asyncpg://unused/unused")
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    conversations = hub.subscribe(ours, [EventType.CONVERSATION_UPDATED])
    everything = hub.subscribe(ours)
    other = hub.subscribe(theirs)
    hub.dispatch(build_event(ours, EventType.CONVERSATION_UPDATED, conversation_id="c1"))
    hub.dispatch(build_event(ours, EventType.MESSAGE_CREATED, message_id="m1"))
    assert conversations.queue.qsize() == 1
    assert everything.queue.qsize() == 2
    assert other.queue.qsize() == 0
    conversations.close()
    assert hub.dispatch(build_event(ours, EventType.MESSAGE_CREATED, message_id="m2")) == 1


def test_a_slow_subscriber_loses_the_oldest_events_not_memory() -> None:
    hub = EventHub("postgresql+asyncpg://unused/unused", max_queue=3)
    org = uuid.uuid4()
    subscription = hub.subscribe(org)
    for i in range(5):
        hub.dispatch(build_event(org, EventType.MESSAGE_CREATED, message_id=str(i)))
    assert subscription.queue.qsize() == 3
    assert subscription.dropped == 2
    assert subscription.queue.get_nowait().ids["message_id"] == "2"


def test_dsn_for_asyncpg() -> None:
    assert asyncpg_dsn("postgresql+asyncpg://u:p@h:5/d") == "postgresql://u:p@h:5/d"


async def test_notify_is_delivered_on_commit_only_and_survives_a_dropped_connection(
    database_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    hub = EventHub(database_url, backoff_initial_s=0.05, backoff_max_s=0.2)
    await hub.start()
    try:
        await asyncio.wait_for(hub.listening.wait(), 10)
        async with session_factory(engine)() as session:
            organisation = await make_organisation(session)
            await session.commit()
        subscription = hub.subscribe(organisation.id)

        async with session_factory(engine)() as session:
            # From a tenant-scoped session, as the API's and worker's writes are.
            await scope_to_organisation(session, organisation.id)
            await emit(
                session, organisation.id, EventType.ATTENTION_CHANGED, conversation_id="gone"
            )
            await session.rollback()
        async with session_factory(engine)() as session:
            await scope_to_organisation(session, organisation.id)
            await emit(
                session, organisation.id, EventType.ATTENTION_CHANGED, conversation_id="kept"
            )
            await session.commit()
        event = await asyncio.wait_for(subscription.get(), 5)
        assert event.ids == {"conversation_id": "kept"}
        assert subscription.queue.empty()

        # Several events of one transaction (a turn emits a few) all arrive, in emit order.
        async with session_factory(engine)() as session, session.begin():
            await scope_to_organisation(session, organisation.id)
            for name in ("first", "second", "third"):
                await emit(
                    session, organisation.id, EventType.CONVERSATION_UPDATED, conversation_id=name
                )
        received = [(await asyncio.wait_for(subscription.get(), 5)).ids for _ in range(3)]
        assert received == [{"conversation_id": n} for n in ("first", "second", "third")]

        # Kill the listener's connection from the server side: the hub reconnects.
        generation = hub.generation
        async with engine.connect() as connection:
            await connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            )
        for _ in range(100):
            if hub.generation > generation and hub.listening.is_set():
                break
            await asyncio.sleep(0.05)
        assert hub.generation > generation
        async with session_factory(engine)() as session:
            await emit(
                session, organisation.id, EventType.ATTENTION_CHANGED, conversation_id="after"
            )
            await session.commit()
        event = await asyncio.wait_for(subscription.get(), 5)
        assert event.ids == {"conversation_id": "after"}
    finally:
        await hub.stop()
        await engine.dispose()
