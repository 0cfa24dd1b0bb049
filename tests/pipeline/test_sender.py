"""The outbox sender against the sandbox's scripted Graph errors, on the real services."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
import sqlalchemy as sa

from funnel.core.models import Conversation, Outbox, WhatsAppChannel
from funnel.core.models.enums import OutboxStatus
from funnel.core.sandbox.state import ScriptRule
from tests.pipeline.support import EchoPipeline, World, epoch, running_worker, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


def attempts_to(world: World, wa_id: str) -> list[tuple[str, int | None]]:
    return [
        (r.status, r.error_code)
        for r in list(world.sandbox.state.sent)
        if r.kind == "message" and r.to == wa_id
    ]


@pytest.mark.parametrize("code", [130429, 131056])
async def test_rate_limits_back_off_and_then_deliver(world: World, code: int) -> None:
    wa_id = f"9198000{code}"
    world.sandbox.state.script.append(ScriptRule(to=wa_id, error_code=code, times=1))
    await world.publish(world.text(wa_id, "hello", epoch()))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(lambda: world.replies_to(wa_id), timeout_s=40, what="delivery after backoff")
    attempts = attempts_to(world, wa_id)
    assert attempts == [("error", code), ("accepted", None)]
    first, second = [r for r in world.sandbox.state.sent if r.kind == "message" and r.to == wa_id]
    gap = (datetime.fromisoformat(second.at) - datetime.fromisoformat(first.at)).total_seconds()
    # 131056 is the pair rate: at least 6 s before trying that person again. 130429 is the
    # number's throughput: about a second.
    assert gap >= (6.0 if code == 131056 else 0.9)
    assert await scalar(world.engine, sa.select(Outbox.status)) == OutboxStatus.SENT


async def test_window_closed_is_not_retried_and_closes_the_window(world: World) -> None:
    wa_id = "919800131047"
    world.sandbox.state.script.append(ScriptRule(to=wa_id, error_code=131047, times=5))
    await world.publish(world.text(wa_id, "hello", epoch()))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(
            lambda: scalar(world.engine, sa.select(Outbox.status)),
            equals=OutboxStatus.DEAD,
            what="the send given up",
        )
    assert attempts_to(world, wa_id) == [("error", 131047)]  # no blind retry
    assert await scalar(world.engine, sa.select(Outbox.last_error_code)) == 131047
    closed = await scalar(world.engine, sa.select(Conversation.window_expires_at <= sa.func.now()))
    assert closed is True


async def test_expired_token_pauses_the_channel_and_stops_sending(world: World) -> None:
    wa_id = "919800000190"
    world.sandbox.state.script.append(ScriptRule(error_code=190, times=100))
    await world.publish(world.text(wa_id, "hello", epoch()))
    async with running_worker(world.settings, EchoPipeline()):
        await wait_for(
            lambda: scalar(world.engine, sa.select(WhatsAppChannel.paused_reason)),
            what="the channel paused",
        )
        await world.publish(world.text("919800000191", "anyone?", epoch(1)))
        await wait_for(
            lambda: scalar(world.engine, sa.select(sa.func.count()).select_from(Outbox)),
            equals=2,
            what="the second reply queued",
        )
        await asyncio.sleep(1.0)
    assert "190" in (await scalar(world.engine, sa.select(WhatsAppChannel.paused_reason)))
    # One attempt hit the expired token; nothing else was tried on the paused channel.
    sends = [r for r in world.sandbox.state.sent if r.kind == "message"]
    assert [(r.status, r.error_code) for r in sends] == [("error", 190)]
    async with world.engine.connect() as c:
        statuses = sorted((await c.execute(sa.select(Outbox.status))).scalars())
    # Kept, not dropped: both go out once the channel is reconnected.
    assert statuses == [OutboxStatus.FAILED, OutboxStatus.PENDING]
