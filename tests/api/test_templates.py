"""``/templates``: Meta's limits, submission, sync (on demand and from webhooks), edit rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.models import Organisation
from funnel.core.settings import Settings, WhatsAppSettings
from funnel.core.templates.service import apply_template_status_update
from tests import factories
from tests.api.conftest import Tenant, make_settings
from tests.core.sandbox.support import RunningSandbox, serve_sandbox

PHONE_NUMBER_ID = "109876543210002"
WABA_ID = "209876543210002"
TOKEN = "test-access-token"

DRAFT: dict[str, Any] = {
    "name": "visit_reminder",
    "language": "en",
    "category": "utility",
    "purpose": "followup",
    "content": {
        "body": "Hi {{1}}, your visit is on {{2}}. Reply to reschedule.",
        "body_examples": ["Asha", "Monday 5 pm"],
        "footer": "Acme Homes",
        "buttons": [{"type": "QUICK_REPLY", "text": "Reschedule"}],
    },
}


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(tokens={PHONE_NUMBER_ID: TOKEN}) as running:
        yield running


@pytest.fixture
def api_settings(database_url: str, sandbox: RunningSandbox) -> Settings:
    return make_settings(database_url, whatsapp=WhatsAppSettings(graph_base_url=sandbox.url))


async def _connect(app: FastAPI, tenant: Tenant) -> None:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        await factories.make_channel(
            session,
            organisation,
            phone_number_id=PHONE_NUMBER_ID,
            waba_id=WABA_ID,
            access_token=TOKEN,
        )
        await session.commit()


def _with_content(**content: Any) -> dict[str, Any]:
    return {**DRAFT, "content": {**DRAFT["content"], **content}}


async def test_meta_limits_are_checked_before_anything_is_sent(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.owner.headers
    bad_bodies = [
        {**DRAFT, "name": "Visit Reminder"},
        {**DRAFT, "name": "x" * 513},
        _with_content(body="x" * 1025),
        _with_content(footer="y" * 61),
        _with_content(footer="Hi {{1}}"),
        _with_content(body_examples=["Asha"]),  # two placeholders, one example
        _with_content(body="{{1}} is here, {{2}}.", body_examples=["a", "b"]),
        _with_content(body="Hi {{1}} and {{3}}.", body_examples=["a", "b"]),
        _with_content(body="Thanks, {{1}}", body_examples=["a"]),
        _with_content(buttons=[{"type": "QUICK_REPLY", "text": f"b{i}"} for i in range(11)]),
        _with_content(
            buttons=[{"type": "URL", "text": f"u{i}", "url": "https://a.example"} for i in range(3)]
        ),
        _with_content(buttons=[{"type": "QUICK_REPLY", "text": "z" * 26}]),
        _with_content(header={"format": "TEXT", "text": "h" * 61}),
    ]
    for body in bad_bodies:
        response = await client.post("/templates", json=body, headers=headers)
        assert response.status_code == 422, body
    created = await client.post("/templates", json=DRAFT, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    [body] = [c for c in created.json()["components"] if c["type"] == "BODY"]
    assert body["example"] == {"body_text": [["Asha", "Monday 5 pm"]]}
    assert (await client.post("/templates", json=DRAFT, headers=headers)).status_code == 409
    agent = await tenant.member("agent")
    assert (await client.post("/templates", json=DRAFT, headers=agent.headers)).status_code == 403


async def test_submit_sync_and_webhook_statuses(
    client: httpx.AsyncClient,
    api_app: FastAPI,
    tenant: Tenant,
    sandbox: RunningSandbox,
) -> None:
    headers = tenant.owner.headers
    template_id = (await client.post("/templates", json=DRAFT, headers=headers)).json()["id"]
    not_connected = await client.post(f"/templates/{template_id}/submit", headers=headers)
    assert not_connected.status_code == 409
    await _connect(api_app, tenant)
    submitted = await client.post(f"/templates/{template_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "pending"
    meta_id = submitted.json()["meta_template_id"]
    assert sandbox.state.find_template("visit_reminder", "en") is not None
    # Under review: content edits are refused, the purpose is not.
    edit = await client.patch(
        f"/templates/{template_id}", json={"content": DRAFT["content"]}, headers=headers
    )
    assert edit.status_code == 409
    purpose = await client.patch(
        f"/templates/{template_id}", json={"purpose": "reengagement"}, headers=headers
    )
    assert purpose.json()["purpose"] == "reengagement"

    # Meta approves: the webhook path (what the worker calls)...
    async with api_app.state.resources.sessionmaker() as session:
        await scope_to_organisation(session, tenant.organisation_id)
        applied = await apply_template_status_update(
            session,
            tenant.organisation_id,
            {"event": "APPROVED", "message_template_id": meta_id, "reason": "NONE"},
        )
        unknown = await apply_template_status_update(
            session, tenant.organisation_id, {"event": "APPROVED", "message_template_id": "999"}
        )
        await session.commit()
    assert applied is True
    assert unknown is False
    approved = (await client.get(f"/templates/{template_id}", headers=headers)).json()
    assert approved["status"] == "approved"
    assert approved["approved_at"] is not None

    # ...and the on-demand sync, which also imports a template made in Business Manager.
    sandbox.state.find_template("visit_reminder", "en")["status"] = "PAUSED"  # type: ignore[index]
    sandbox.state.templates[WABA_ID].append(
        {
            "id": "77",
            "name": "made_elsewhere",
            "language": "en_US",
            "status": "APPROVED",
            "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Hello"}],
            "parameter_format": "POSITIONAL",
        }
    )
    synced = await client.post("/templates/sync", headers=headers)
    assert synced.status_code == 200, synced.text
    assert synced.json() == {"updated": 1, "imported": 1}
    listed = {
        t["name"]: t["status"] for t in (await client.get("/templates", headers=headers)).json()
    }
    assert listed == {"visit_reminder": "paused", "made_elsewhere": "approved"}


async def test_deleting_an_approved_template_needs_confirmation(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, sandbox: RunningSandbox
) -> None:
    headers = tenant.owner.headers
    await _connect(api_app, tenant)
    template_id = (await client.post("/templates", json=DRAFT, headers=headers)).json()["id"]
    meta_id = (await client.post(f"/templates/{template_id}/submit", headers=headers)).json()[
        "meta_template_id"
    ]
    async with api_app.state.resources.sessionmaker() as session:
        await scope_to_organisation(session, tenant.organisation_id)
        await apply_template_status_update(
            session, tenant.organisation_id, {"event": "APPROVED", "message_template_id": meta_id}
        )
        await session.commit()
    refused = await client.delete(f"/templates/{template_id}", headers=headers)
    assert refused.status_code == 409
    deleted = await client.delete(
        f"/templates/{template_id}", params={"confirm": "true"}, headers=headers
    )
    assert deleted.status_code == 204
    assert sandbox.state.find_template("visit_reminder", "en") is None
    assert (await client.get(f"/templates/{template_id}", headers=headers)).status_code == 404
    # A draft never left Funnel: deleted locally, no confirmation needed.
    draft_id = (await client.post("/templates", json=DRAFT, headers=headers)).json()["id"]
    assert (await client.delete(f"/templates/{draft_id}", headers=headers)).status_code == 204
