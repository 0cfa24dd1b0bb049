"""``/messages``: a person's sends go through the send planner, to the conversation's lead only."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.events import EventType
from funnel.core.models import (
    Conversation,
    Lead,
    MediaObject,
    MessageStatusEvent,
    Organisation,
    Outbox,
)
from funnel.core.models.enums import MessageStatus, TemplatePurpose, TemplateStatus
from funnel.core.settings import Settings, WhatsAppSettings
from tests import factories
from tests.api.conftest import Tenant, make_settings
from tests.core.sandbox.support import RunningSandbox, serve_sandbox

PHONE_NUMBER_ID = "109876543210001"
TOKEN = "test-access-token"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(tokens={PHONE_NUMBER_ID: TOKEN}) as running:
        yield running


@pytest.fixture
def api_settings(database_url: str, sandbox: RunningSandbox) -> Settings:
    return make_settings(database_url, whatsapp=WhatsAppSettings(graph_base_url=sandbox.url))


async def _thread(
    app: FastAPI, tenant: Tenant, *, window_open: bool = True, **lead: Any
) -> tuple[Conversation, Lead]:
    now = dt.datetime.now(dt.UTC)
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(
            session, organisation, phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN
        )
        made = await factories.make_lead(session, channel, **lead)
        inbound_at = now - (dt.timedelta(hours=1) if window_open else dt.timedelta(hours=30))
        conversation = await factories.make_conversation(
            session,
            made,
            last_inbound_at=inbound_at,
            window_expires_at=inbound_at + dt.timedelta(hours=24),
        )
        await session.commit()
        return conversation, made


async def _template(app: FastAPI, tenant: Tenant, **overrides: Any) -> str:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        template = await factories.make_template(session, organisation, **overrides)
        await session.commit()
        return str(template.id)


async def _outbox(app: FastAPI, conversation: Conversation) -> list[Outbox]:
    async with app.state.resources.sessionmaker() as session:
        rows = await session.execute(
            sa.select(Outbox).where(Outbox.conversation_id == conversation.id)
        )
        return list(rows.scalars())


async def test_text_inside_the_window_is_queued_to_the_leads_number(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, lead = await _thread(api_app, tenant)
    agent = await tenant.member("agent")
    created = api_app.state.resources.events.subscribe(
        tenant.organisation_id, [EventType.MESSAGE_CREATED]
    )
    body = {"type": "text", "conversation_id": str(conversation.id), "text": "Hi there"}
    response = await client.post(
        "/messages", json=body, headers={**agent.headers, "Idempotency-Key": "k1"}
    )
    assert response.status_code == 202, response.text
    sent = response.json()
    assert sent["verdict"] == "free_form"
    assert sent["message"]["author"] == "human"
    assert sent["message"]["author_user_id"] == str(agent.user_id)
    assert sent["message"]["status"] == "pending"
    [queued] = await _outbox(api_app, conversation)
    assert queued.payload["to"] == lead.wa_id
    assert queued.payload["text"]["body"] == "Hi there"
    event = await asyncio.wait_for(created.queue.get(), timeout=10)
    assert event.ids["message_ids"] == [sent["message"]["id"]]
    # A retry with the same key answers with the same message and queues nothing new.
    again = await client.post(
        "/messages", json=body, headers={**agent.headers, "Idempotency-Key": "k1"}
    )
    assert again.status_code == 202
    assert again.json()["message"]["id"] == sent["message"]["id"]
    assert len(await _outbox(api_app, conversation)) == 1


async def test_the_recipient_cannot_be_overridden(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    conversation, _ = await _thread(api_app, tenant)
    for extra in ({"to": "15550001111"}, {"recipient": "15550001111"}, {"wa_id": "1555"}):
        body = {"type": "text", "conversation_id": str(conversation.id), "text": "x", **extra}
        response = await client.post("/messages", json=body, headers=tenant.owner.headers)
        assert response.status_code == 422, extra
    # Another organisation's conversation is not found, whoever asks.
    body = {"type": "text", "conversation_id": str(conversation.id), "text": "x"}
    response = await client.post("/messages", json=body, headers=other_tenant.owner.headers)
    assert response.status_code == 404
    assert await _outbox(api_app, conversation) == []
    viewer = await tenant.member("viewer")
    assert (await client.post("/messages", json=body, headers=viewer.headers)).status_code == 403


async def test_outside_the_window_text_is_refused_unless_a_template_goes_instead(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, lead = await _thread(api_app, tenant, window_open=False)
    body = {"type": "text", "conversation_id": str(conversation.id), "text": "Still there?"}
    refused = await client.post("/messages", json=body, headers=tenant.owner.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["reason"] == "no_approved_template"
    with_fallback = {**body, "fallback_to_template": True}
    refused = await client.post("/messages", json=with_fallback, headers=tenant.owner.headers)
    assert refused.status_code == 409  # no approved re-engagement template yet
    assert await _outbox(api_app, conversation) == []

    await _template(
        api_app,
        tenant,
        status=TemplateStatus.APPROVED,
        purpose=TemplatePurpose.REENGAGEMENT,
        components=[{"type": "BODY", "text": "Hi {{1}}, still interested?"}],
    )
    sent = await client.post("/messages", json=with_fallback, headers=tenant.owner.headers)
    assert sent.status_code == 202, sent.text
    assert sent.json()["verdict"] == "template"
    [queued] = await _outbox(api_app, conversation)
    assert queued.payload["type"] == "template"
    assert queued.payload["to"] == lead.wa_id


async def test_a_chosen_template_goes_out_whatever_the_window_with_its_parameters(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, _ = await _thread(api_app, tenant, window_open=False)
    approved = await _template(
        api_app,
        tenant,
        status=TemplateStatus.APPROVED,
        components=[{"type": "BODY", "text": "Your visit is on {{1}} at {{2}}"}],
    )
    draft = await _template(api_app, tenant)
    base = {"type": "template", "conversation_id": str(conversation.id)}
    headers = tenant.owner.headers
    short = await client.post(
        "/messages",
        json={**base, "template_id": approved, "parameters": ["Monday"]},
        headers=headers,
    )
    assert short.status_code == 422
    not_approved = await client.post(
        "/messages", json={**base, "template_id": draft, "parameters": ["Asha"]}, headers=headers
    )
    assert not_approved.status_code == 409
    sent = await client.post(
        "/messages",
        json={**base, "template_id": approved, "parameters": ["Monday", "5 pm"]},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["message"]["text"] == "Your visit is on Monday at 5 pm"
    [queued] = await _outbox(api_app, conversation)
    parameters = queued.payload["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["Monday", "5 pm"]


async def test_nothing_goes_to_an_opted_out_lead(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, _ = await _thread(
        api_app, tenant, opted_out=True, opted_out_at=dt.datetime.now(dt.UTC)
    )
    approved = await _template(api_app, tenant, status=TemplateStatus.APPROVED)
    for body in (
        {"type": "text", "conversation_id": str(conversation.id), "text": "hi"},
        {
            "type": "template",
            "conversation_id": str(conversation.id),
            "template_id": approved,
            "parameters": ["Asha"],
        },
    ):
        response = await client.post("/messages", json=body, headers=tenant.owner.headers)
        assert response.status_code == 409
        assert response.json()["error"]["details"]["reason"] == "opted_out"
    assert await _outbox(api_app, conversation) == []


async def test_interactive_buttons_and_list(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, _ = await _thread(api_app, tenant)
    headers = tenant.owner.headers
    buttons = {
        "type": "buttons",
        "conversation_id": str(conversation.id),
        "text": "Book a call?",
        "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
    }
    assert (await client.post("/messages", json=buttons, headers=headers)).status_code == 202
    duplicate_titles = {
        **buttons,
        "buttons": [{"id": "a", "title": "Yes"}, {"id": "b", "title": "Yes"}],
    }
    assert (
        await client.post("/messages", json=duplicate_titles, headers=headers)
    ).status_code == 422
    listing = {
        "type": "list",
        "conversation_id": str(conversation.id),
        "text": "Pick one",
        "button": "Plans",
        "sections": [{"title": "Plans", "rows": [{"id": "p1", "title": "Basic"}]}],
    }
    assert (await client.post("/messages", json=listing, headers=headers)).status_code == 202
    kinds = sorted(
        row.payload["interactive"]["type"] for row in await _outbox(api_app, conversation)
    )
    assert kinds == ["button", "list"]


async def test_media_is_checked_uploaded_and_queued_by_id(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, sandbox: RunningSandbox
) -> None:
    conversation, _ = await _thread(api_app, tenant)
    headers = tenant.owner.headers
    form = {"conversation_id": str(conversation.id), "caption": "Our brochure"}
    wrong_type = await client.post(
        "/messages/media",
        data=form,
        files={"file": ("x.exe", b"MZ....", "application/x-msdownload")},
        headers=headers,
    )
    assert wrong_type.status_code == 422
    not_a_pdf = await client.post(
        "/messages/media",
        data=form,
        files={"file": ("b.pdf", b"<html>", "application/pdf")},
        headers=headers,
    )
    assert not_a_pdf.status_code == 422
    sent = await client.post(
        "/messages/media",
        data=form,
        files={"file": ("brochure.pdf", b"%PDF-1.4 brochure", "application/pdf")},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    message = sent.json()["message"]
    assert message["type"] == "document"
    [queued] = await _outbox(api_app, conversation)
    media_id = queued.payload["document"]["id"]
    assert media_id in sandbox.state.media
    async with api_app.state.resources.sessionmaker() as session:
        stored = await session.get(MediaObject, message["media_id"])
        assert stored is not None
        assert stored.whatsapp_media_id == media_id


async def test_one_message_with_its_status_history(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    conversation, _ = await _thread(api_app, tenant)
    now = dt.datetime.now(dt.UTC)
    async with api_app.state.resources.sessionmaker() as session:
        message = await factories.make_message(session, conversation, status=MessageStatus.READ)
        # Stored in the order webhooks happened to arrive; listed in WhatsApp's order.
        order = {MessageStatus.SENT: 0, MessageStatus.DELIVERED: 1, MessageStatus.READ: 2}
        for status in (MessageStatus.READ, MessageStatus.SENT, MessageStatus.DELIVERED):
            session.add(
                MessageStatusEvent(
                    organisation_id=tenant.organisation_id,
                    wamid=message.wamid,
                    status=status,
                    occurred_at=now + dt.timedelta(seconds=order[status]),
                )
            )
        await session.commit()
    response = await client.get(f"/messages/{message.id}", headers=tenant.owner.headers)
    assert response.status_code == 200
    history = [e["status"] for e in response.json()["status_history"]]
    assert history == ["sent", "delivered", "read"]
    theirs = await client.get(f"/messages/{message.id}", headers=other_tenant.owner.headers)
    assert theirs.status_code == 404
