"""The worker on the real services: events in Kafka → PostgreSQL → outbox → the WhatsApp sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from funnel.core.models import Conversation, Lead, Message, MessageStatusEvent, Outbox
from funnel.core.models.enums import ConversationMode, MessageDirection, MessageStatus, OutboxStatus
from tests.pipeline.support import (
    EchoPipeline,
    World,
    epoch,
    running_worker,
    scalar,
    status_webhook,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


async def test_a_message_is_stored_answered_and_the_reply_recorded(world: World) -> None:
    await world.publish(world.text("919800000001", "Hi, where is my order?", epoch()))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(lambda: world.replies_to("919800000001"), what="a reply in the sandbox")
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(sa.func.count())
                .select_from(Outbox)
                .where(Outbox.status == OutboxStatus.SENT),
            ),
            what="the outbox row marked sent",
        )
    assert world.replies_to("919800000001") == ["echo: Hi, where is my order?"]
    async with world.engine.connect() as c:
        rows = (
            await c.execute(
                sa.select(Message.direction, Message.status, Message.wamid).order_by(
                    Message.created_at
                )
            )
        ).all()
        assert [(r.direction, r.status) for r in rows] == [
            (MessageDirection.INBOUND, MessageStatus.RECEIVED),
            (MessageDirection.OUTBOUND, MessageStatus.SENT),
        ]
        # The outbound wamid is the one the sandbox returned.
        assert rows[1].wamid == world.sandbox.state.sent[-1].wamid
        conversation = (await c.execute(sa.select(Conversation))).one()
        assert conversation.window_expires_at is not None
        lead = (await c.execute(sa.select(Lead))).one()
        assert lead.name == "Customer"
    # The worker marked the message read (with a typing indicator) when the turn started.
    assert any(r.kind == "read" for r in world.sandbox.state.sent)


async def test_redelivered_message_is_stored_once_and_answered_once(world: World) -> None:
    payload = world.text("919800000002", "price list please", epoch(), wamid="wamid.DUP1")
    await world.publish(payload, payload)
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(lambda: world.replies_to("919800000002"), what="a reply")
        await world.publish(payload)  # and once more after the reply went out
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(sa.func.count())
                .select_from(Message)
                .where(Message.direction == MessageDirection.INBOUND),
            ),
            what="the inbound row",
        )
        await asyncio.sleep(1.0)  # time for a wrongly produced second reply to show up
    assert world.replies_to("919800000002") == ["echo: price list please"]
    assert (
        await scalar(
            world.engine,
            sa.select(sa.func.count()).select_from(Message).where(Message.wamid == "wamid.DUP1"),
        )
        == 1
    )


async def test_a_burst_becomes_one_turn_in_customer_order(world: World) -> None:
    settings = world.settings.model_copy(
        update={"worker": world.settings.worker.model_copy(update={"debounce_s": 0.5})}
    )
    base = epoch()
    # Published out of order: WhatsApp's timestamps, not arrival, decide the order.
    await world.publish(
        world.text("919800000003", "second", base + 2),
        world.text("919800000003", "first", base + 1),
        world.text("919800000003", "third", base + 3),
    )
    async with running_worker(settings, EchoPipeline()):
        await wait_for(lambda: world.replies_to("919800000003"), what="a reply")
    assert world.replies_to("919800000003") == ["echo: first | second | third"]


async def test_human_mode_stores_messages_but_the_bot_stays_silent(world: World) -> None:
    await world.publish(world.text("919800000004", "hello", epoch()))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(lambda: world.replies_to("919800000004"), what="the first reply")
        async with world.engine.begin() as c:
            await c.execute(
                sa.update(Conversation).values(
                    mode=ConversationMode.HUMAN, human_since=sa.func.now()
                )
            )
        await world.publish(world.text("919800000004", "I want to talk to a person", epoch(1)))
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(sa.func.count())
                .select_from(Message)
                .where(
                    Message.direction == MessageDirection.INBOUND,
                    Message.pipeline_run_id.is_not(None),
                ),
            ),
            equals=2,
            what="the second message consumed by a (skipped) turn",
        )
    assert world.replies_to("919800000004") == ["echo: hello"]


async def test_statuses_apply_monotonically_and_131047_closes_the_window(world: World) -> None:
    wa_id = "919800000005"
    await world.publish(world.text(wa_id, "hi", epoch()))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(lambda: world.replies_to(wa_id), what="a reply")
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(Message.wamid).where(
                    Message.direction == MessageDirection.OUTBOUND, Message.wamid.is_not(None)
                ),
            ),
            what="the stored wamid",
        )
        wamid = await scalar(
            world.engine,
            sa.select(Message.wamid).where(Message.direction == MessageDirection.OUTBOUND),
        )
        now = epoch()

        def status(s: str, at: int, code: int | None = None) -> dict[str, Any]:
            return status_webhook(
                phone_number_id=world.phone_number_id,
                waba_id=world.waba_id,
                wa_id=wa_id,
                wamid=wamid,
                status=s,
                timestamp=at,
                error_code=code,
            )

        # read before delivered, and a duplicate read: the message ends read.
        await world.publish(
            status("read", now + 2), status("delivered", now + 1), status("read", now + 2)
        )
        await wait_for(
            lambda: scalar(world.engine, sa.select(Message.status).where(Message.wamid == wamid)),
            equals=MessageStatus.READ,
            what="status read",
        )
        assert (
            await scalar(
                world.engine,
                sa.select(sa.func.count())
                .select_from(MessageStatusEvent)
                .where(MessageStatusEvent.wamid == wamid),
            )
            == 2
        )
        # A failure after read changes nothing; a 131047 on a fresh send closes the window.
        await world.publish(world.text(wa_id, "still there?", epoch(5)))
        await wait_for(lambda: len(world.replies_to(wa_id)) == 2, what="the second reply")
        await wait_for(
            lambda: scalar(
                world.engine,
                sa.select(sa.func.count())
                .select_from(Message)
                .where(Message.direction == MessageDirection.OUTBOUND, Message.wamid.is_not(None)),
            ),
            equals=2,
            what="the second wamid",
        )
        second = await scalar(
            world.engine,
            sa.select(Message.wamid)
            .where(Message.direction == MessageDirection.OUTBOUND)
            .order_by(Message.created_at.desc())
            .limit(1),
        )
        wamid = second
        await world.publish(status("failed", epoch(6), code=131047))
        await wait_for(
            lambda: scalar(
                world.engine, sa.select(Message.error_code).where(Message.wamid == second)
            ),
            equals=131047,
            what="the failed status applied",
        )
    async with world.engine.connect() as c:
        conversation = (await c.execute(sa.select(Conversation))).one()
        assert conversation.window_expires_at is not None
        closed = (
            await c.execute(sa.select(Conversation.window_expires_at <= sa.func.now()))
        ).scalar_one()
        assert closed is True


async def test_a_template_status_webhook_updates_the_template(world: World) -> None:
    """Meta's ``message_template_status_update`` (no phone number, WABA-level) reaches the
    organisation's template through the same data plane."""
    import json

    from sqlalchemy.ext.asyncio import AsyncSession

    from funnel.core.models import Organisation, Template
    from funnel.core.models.enums import TemplateStatus
    from tests.factories import make_template
    from tests.fixtures.whatsapp.corpus import load_fixture

    async with world.engine.begin() as connection:
        session = AsyncSession(bind=connection, expire_on_commit=False)
        organisation = await session.get(Organisation, world.organisation_id)
        assert organisation is not None
        await make_template(
            session,
            organisation,
            name="order_update",
            language="en_US",
            meta_template_id="12345678",
            status=TemplateStatus.PENDING,
        )
    await world.publish(json.loads(load_fixture("template_status_rejected").raw))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(
            lambda: scalar(world.engine, sa.select(Template.status)),
            equals=TemplateStatus.REJECTED,
            what="the template marked rejected",
        )
    assert await scalar(world.engine, sa.select(Template.rejection_reason)) == "INCORRECT_CATEGORY"
