"""``/followup-sequences``: sequences written whole, validated, one active per trigger, and the
scheduler using what an operator saved."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.models import AuditLog, Organisation
from funnel.core.scheduling.followups import sequence_step
from tests import factories
from tests.api.conftest import Tenant

NUDGES = {
    "name": "Gentle nudges",
    "steps": [
        {"delay_minutes": 60, "message_hint": "Ask if they had a look at the catalogue"},
        {"delay_minutes": 1440, "message_hint": "Offer a call"},
    ],
}


async def test_an_operator_builds_a_sequence_the_scheduler_then_follows(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    headers = tenant.owner.headers
    created = await client.post("/followup-sequences", json=NUDGES, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["trigger"] == "no_reply"
    assert body["is_active"] is True
    assert [(s["position"], s["delay_minutes"]) for s in body["steps"]] == [(1, 60), (2, 1440)]

    # Replaced whole: a third step, the first one dropped, renumbered.
    replaced = await client.put(
        f"/followup-sequences/{body['id']}",
        json={
            **NUDGES,
            "steps": [
                {"delay_minutes": 1440, "message_hint": "Offer a call"},
                {"delay_minutes": 4320, "message_hint": "Last check-in"},
            ],
        },
        headers=headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert [s["message_hint"] for s in replaced.json()["steps"]] == [
        "Offer a call",
        "Last check-in",
    ]
    listed = await client.get("/followup-sequences", headers=headers)
    assert [s["name"] for s in listed.json()] == ["Gentle nudges"]

    # What the scheduler reads for a lead who went quiet is what was saved.
    async with api_app.state.resources.sessionmaker() as session:
        first = await sequence_step(session, tenant.organisation_id, 1)
        second = await sequence_step(session, tenant.organisation_id, 2)
    assert first is not None
    assert first.delay_minutes == 1440
    assert second is not None
    assert second.message_hint == "Last check-in"

    async with api_app.state.resources.sessionmaker() as session:
        actions = (
            await session.execute(
                sa.select(AuditLog.action).where(
                    AuditLog.organisation_id == tenant.organisation_id,
                    AuditLog.entity_type == "followup_sequence",
                )
            )
        ).scalars()
        assert sorted(actions) == ["followup_sequence.created", "followup_sequence.updated"]


async def test_activating_one_sequence_deactivates_the_other_of_its_trigger(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    headers = tenant.owner.headers
    first = (await client.post("/followup-sequences", json=NUDGES, headers=headers)).json()
    second = (
        await client.post(
            "/followup-sequences", json={**NUDGES, "name": "Firmer nudges"}, headers=headers
        )
    ).json()
    listed = {
        s["name"]: s["is_active"]
        for s in (await client.get("/followup-sequences", headers=headers)).json()
    }
    assert listed == {"Gentle nudges": False, "Firmer nudges": True}
    # A CTA-pending sequence is another trigger: it does not switch the no-reply one off.
    await client.post(
        "/followup-sequences",
        json={**NUDGES, "name": "CTA reminders", "trigger": "cta_pending"},
        headers=headers,
    )
    listed = {
        s["name"]: s["is_active"]
        for s in (await client.get("/followup-sequences", headers=headers)).json()
    }
    assert listed == {"Gentle nudges": False, "Firmer nudges": True, "CTA reminders": True}
    assert first["id"] != second["id"]


async def test_bad_sequences_are_refused_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, api_app: FastAPI
) -> None:
    headers = tenant.owner.headers
    async with api_app.state.resources.sessionmaker() as session:
        theirs = await factories.make_template(
            session, await session.get_one(Organisation, other_tenant.organisation_id)
        )
        await session.commit()
    for bad in (
        {**NUDGES, "steps": []},
        {**NUDGES, "steps": [{"delay_minutes": 0}]},
        {**NUDGES, "steps": [{"delay_minutes": 60 * 24 * 31}]},
        {**NUDGES, "steps": [{"delay_minutes": 60}] * 11},
        {**NUDGES, "name": " "},
        {**NUDGES, "trigger": "whenever"},
        {**NUDGES, "steps": [{"delay_minutes": 60, "surprise": True}]},
    ):
        response = await client.post("/followup-sequences", json=bad, headers=headers)
        assert response.status_code == 422, (bad, response.text)
    # Another organisation's template is not one this organisation can send.
    foreign = await client.post(
        "/followup-sequences",
        json={**NUDGES, "steps": [{"delay_minutes": 60, "template_id": str(theirs.id)}]},
        headers=headers,
    )
    assert foreign.status_code == 422
    assert "steps[0].template_id" in foreign.text
    assert (
        await client.post("/followup-sequences", json=NUDGES, headers=headers)
    ).status_code == 201
    assert (
        await client.post("/followup-sequences", json=NUDGES, headers=headers)
    ).status_code == 409
    listed = (await client.get("/followup-sequences", headers=headers)).json()
    assert len(listed) == 1
    assert len(listed[0]["steps"]) == 2

    agent = await tenant.member("agent")
    assert (
        await client.post("/followup-sequences", json=NUDGES, headers=agent.headers)
    ).status_code == 403
    assert (await client.get("/followup-sequences", headers=agent.headers)).status_code == 200
    missing = await client.put(f"/followup-sequences/{uuid.uuid4()}", json=NUDGES, headers=headers)
    assert missing.status_code == 404


async def test_deleting_a_sequence_removes_its_steps(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    headers = tenant.owner.headers
    created = (await client.post("/followup-sequences", json=NUDGES, headers=headers)).json()
    deleted = await client.delete(f"/followup-sequences/{created['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (
        await client.get(f"/followup-sequences/{created['id']}", headers=headers)
    ).status_code == 404
    async with api_app.state.resources.sessionmaker() as session:
        # A nudge already scheduled from it finds no step and is skipped.
        assert await sequence_step(session, tenant.organisation_id, 1) is None
