"""The send planner in the running worker: a 131047 becomes the approved template on the
conversation's key, a closed window turns a reply into a template, and a CTA button reply is
recognised on the next turn."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from funnel.core.llm.offline import OfflineLlmClient
from funnel.core.models import Conversation, Cta, Organisation, ScheduledAction, Template
from funnel.core.models.enums import (
    CtaState,
    CtaType,
    ScheduledActionKind,
    TemplateCategory,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.sandbox.state import ScriptRule
from funnel.core.scheduling.actions import ClaimedAction
from funnel.core.turns.htl_pipeline import HtlPipeline
from funnel.pipeline.worker.scheduler import scheduled_event
from tests.pipeline.scheduled_support import MovableClock, clocked_worker
from tests.pipeline.support import World, epoch, events_of, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


def pipeline(world: World) -> HtlPipeline:
    return HtlPipeline(OfflineLlmClient(), settings=world.settings)


async def add_template(world: World, purpose: TemplatePurpose, name: str) -> None:
    async with world.engine.begin() as c:
        await c.execute(
            sa.update(Organisation)
            .where(Organisation.id == world.organisation_id)
            .values(quiet_hours={})
        )
        await c.execute(
            sa.insert(Template).values(
                organisation_id=world.organisation_id,
                name=name,
                language="en",
                category=TemplateCategory.UTILITY,
                status=TemplateStatus.APPROVED,
                purpose=purpose,
                components=[{"type": "BODY", "text": "Hi {{1}}, we tried to reach you."}],
            )
        )


def templates_to(world: World, wa_id: str) -> list[dict[str, Any]]:
    return [
        r.body["template"]
        for r in list(world.sandbox.state.sent)
        if r.to == wa_id and r.type == "template" and r.status == "accepted"
    ]


def test_a_scheduled_event_goes_on_the_conversations_key(world: World) -> None:
    wa_id = "919877777777"
    (inbound,) = events_of(world.text(wa_id, "hi", epoch()), world.organisation_id)
    action = ClaimedAction(
        id=uuid.uuid4(),
        organisation_id=world.organisation_id,
        conversation_id=uuid.uuid4(),
        kind=ScheduledActionKind.TEMPLATE_FALLBACK,
        due_at=dt.datetime.now(dt.UTC),
        payload={},
        phone_number_id=world.phone_number_id,
        waba_id=world.waba_id,
        contact_wa_id=wa_id,
        contact_user_id=None,
    )
    event = scheduled_event(action, now=dt.datetime.now(dt.UTC))
    assert event.key == inbound.key
    assert event.kind.value == "scheduled"


async def test_a_131047_is_reconciled_into_the_approved_template(world: World) -> None:
    await add_template(world, TemplatePurpose.REENGAGEMENT, "we_tried_to_reach_you")
    wa_id = "919888888888"
    world.sandbox.state.script.append(ScriptRule(to=wa_id, error_code=131047))
    async with clocked_worker(world, pipeline(world), MovableClock()):
        await world.publish(world.text(wa_id, "Hi there", epoch()))
        await wait_for(lambda: templates_to(world, wa_id), what="the template fallback sent")
    (template,) = templates_to(world, wa_id)
    assert template["name"] == "we_tried_to_reach_you"
    # The free-form reply was refused and never retried into the closed window.
    accepted = [r.type for r in list(world.sandbox.state.sent) if r.to == wa_id]
    assert accepted == ["text", "template"]
    assert [r.status for r in list(world.sandbox.state.sent) if r.to == wa_id] == [
        "error",
        "accepted",
    ]
    async with world.engine.connect() as c:
        fallback = (
            await c.execute(
                sa.select(ScheduledAction.status).where(
                    ScheduledAction.kind == ScheduledActionKind.TEMPLATE_FALLBACK
                )
            )
        ).scalar_one()
        window = await c.scalar(sa.select(Conversation.window_expires_at))
    assert fallback.value == "done"
    assert window is not None
    assert window <= dt.datetime.now(dt.UTC)


async def test_a_131047_without_a_template_flags_the_conversation(world: World) -> None:
    wa_id = "919899999999"
    world.sandbox.state.script.append(ScriptRule(to=wa_id, error_code=131047))
    async with clocked_worker(world, pipeline(world), MovableClock()):
        await world.publish(world.text(wa_id, "Hi there", epoch()))
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.needs_attention)),
            what="attention raised",
        )
    reason = await scalar(world.engine, sa.select(Conversation.attention_reason))
    assert "reengagement" in reason
    assert templates_to(world, wa_id) == []


def button_webhook(world: World, wa_id: str, button_id: str, ts: int) -> dict[str, Any]:
    payload = world.text(wa_id, "x", ts)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"] = "interactive"
    message["interactive"] = {
        "type": "button_reply",
        "button_reply": {"id": button_id, "title": "Book survey"},
    }
    return payload


async def test_a_cta_offered_then_accepted_by_its_button(world: World) -> None:
    async with world.engine.begin() as c:
        cta_id = (
            await c.execute(
                sa.insert(Cta)
                .values(
                    organisation_id=world.organisation_id,
                    type=CtaType.BOOK_CALL,
                    name="Book a site survey",
                    url="https://example.com/survey",
                    button_text="Book",
                )
                .returning(Cta.id)
            )
        ).scalar_one()
    wa_id = "919812121212"
    async with clocked_worker(world, pipeline(world), MovableClock()):
        await world.publish(
            world.text(wa_id, "I want to book the site survey. How do I proceed?", epoch())
        )
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.cta_state)),
            equals=CtaState.OFFERED,
            what="the CTA offered",
        )
        # The state is committed with the decision; the send follows from the outbox.
        await wait_for(
            lambda: [r for r in list(world.sandbox.state.sent) if r.to == wa_id],
            what="the offer sent",
        )
        offers = [r for r in list(world.sandbox.state.sent) if r.to == wa_id]
        assert offers[-1].type == "interactive"
        await world.publish(button_webhook(world, wa_id, f"cta:{cta_id}:accept", epoch(3)))
        await wait_for(
            lambda: scalar(world.engine, sa.select(Conversation.cta_state)),
            equals=CtaState.ACCEPTED,
            what="the CTA accepted",
        )
    assert await scalar(world.engine, sa.select(Conversation.cta_id)) == cta_id
