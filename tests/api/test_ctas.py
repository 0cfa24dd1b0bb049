"""``/ctas``: validated CRUD, soft delete that keeps conversations' history."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from funnel.core.models import Conversation, Organisation
from tests import factories
from tests.api.conftest import Tenant

BOOK = {
    "type": "book_call",
    "name": "Book a call",
    "url": "https://cal.example.com/sales",
    "button_text": "Pick a slot",
}


async def test_create_validates_url_and_button(client: httpx.AsyncClient, tenant: Tenant) -> None:
    headers = tenant.owner.headers
    for bad in (
        {**BOOK, "url": "javascript:alert(1)"},
        {**BOOK, "url": "http://cal.example.com"},
        {**BOOK, "button_text": "x" * 21},
        {**BOOK, "button_text": None},
        {"type": "send_link", "name": "No link"},
    ):
        assert (await client.post("/ctas", json=bad, headers=headers)).status_code == 422, bad
    created = await client.post("/ctas", json=BOOK, headers=headers)
    assert created.status_code == 201, created.text
    assert (await client.post("/ctas", json=BOOK, headers=headers)).status_code == 409
    agent = await tenant.member("agent")
    assert (await client.post("/ctas", json=BOOK, headers=agent.headers)).status_code == 403
    cta_id = created.json()["id"]
    patched = await client.patch(f"/ctas/{cta_id}", json={"is_active": False}, headers=headers)
    assert patched.json()["is_active"] is False
    assert patched.json()["url"] == "https://cal.example.com/sales"
    assert (
        await client.patch(f"/ctas/{cta_id}", json={"name": None}, headers=headers)
    ).status_code == 422


async def test_delete_is_soft_and_conversations_keep_it(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    headers = tenant.owner.headers
    cta_id = (await client.post("/ctas", json=BOOK, headers=headers)).json()["id"]
    async with api_app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        lead = await factories.make_lead(session, channel)
        conversation = await factories.make_conversation(session, lead, cta_id=cta_id)
        await session.commit()
    assert (await client.delete(f"/ctas/{cta_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/ctas/{cta_id}", headers=headers)).status_code == 404
    assert (await client.get("/ctas", headers=headers)).json() == []
    async with api_app.state.resources.sessionmaker() as session:
        kept = await session.get(Conversation, conversation.id)
        assert kept is not None
        assert str(kept.cta_id) == cta_id
    # The name is free again for a new CTA.
    assert (await client.post("/ctas", json=BOOK, headers=headers)).status_code == 201
