"""``/dashboard``: KPIs for whole days in the organisation's timezone (Asia/Kolkata here)."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI

from funnel.core.models import Organisation
from funnel.core.models.enums import IntentLevel, MessageAuthor, MessageDirection, MessageStatus
from tests import factories
from tests.api.conftest import Tenant

UTC = dt.UTC


async def seed(app: FastAPI, tenant: Tenant) -> None:
    """Two conversations on 2 January (IST). One message at 00:30 IST on 2 January, which is
    19:00 UTC on 1 January: a UTC (or 'IST'-as-Israel) day boundary would miscount it."""
    day = dt.datetime(2026, 1, 1, 19, 0, tzinfo=UTC)  # 2 Jan 00:30 in Kolkata
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        hot = await factories.make_lead(session, channel, intent_level=IntentLevel.HIGH)
        cold = await factories.make_lead(session, channel)
        bot_only = await factories.make_conversation(session, hot, created_at=day)
        helped = await factories.make_conversation(
            session,
            cold,
            created_at=day,
            needs_attention=True,
            attention_raised_at=day + dt.timedelta(hours=2),
        )
        await factories.make_message(session, bot_only, created_at=day)
        await factories.make_message(
            session,
            bot_only,
            created_at=day + dt.timedelta(seconds=30),
            direction=MessageDirection.OUTBOUND,
            author=MessageAuthor.BOT,
            status=MessageStatus.SENT,
        )
        await factories.make_message(session, helped, created_at=day + dt.timedelta(hours=1))
        await factories.make_message(
            session,
            helped,
            created_at=day + dt.timedelta(hours=1, seconds=90),
            direction=MessageDirection.OUTBOUND,
            author=MessageAuthor.HUMAN,
            status=MessageStatus.SENT,
        )
        # Outside the range (3 January IST).
        await factories.make_message(session, helped, created_at=day + dt.timedelta(days=1))
        await session.commit()


async def test_kpis_count_whole_days_in_the_organisations_timezone(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    await seed(api_app, tenant)
    await seed(api_app, other_tenant)  # never counted for this tenant
    params = {"date_from": "2026-01-02", "date_to": "2026-01-02"}
    response = await client.get("/dashboard", params=params, headers=tenant.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conversations"] == 2
    assert body["active_leads"] == 2
    assert body["high_intent_leads"] == 1
    assert body["messages_by_author"] == {"lead": 2, "bot": 1, "human": 1}
    assert body["attention"]["count"] == 1
    assert body["median_first_response_s"] == 60.0  # 30 s and 90 s
    assert body["ai_handled_share"] == 0.5
    previous_day = await client.get(
        "/dashboard",
        params={"date_from": "2026-01-01", "date_to": "2026-01-01"},
        headers=tenant.owner.headers,
    )
    assert previous_day.json()["messages_by_author"] == {}
    backwards = await client.get(
        "/dashboard",
        params={"date_from": "2026-01-03", "date_to": "2026-01-01"},
        headers=tenant.owner.headers,
    )
    assert backwards.status_code == 422


async def test_analytics_funnel_shares_and_series(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    await seed(api_app, tenant)
    params = {"date_from": "2026-01-02", "date_to": "2026-01-03"}
    response = await client.get("/analytics", params=params, headers=tenant.owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["range"]["timezone"] == "Asia/Kolkata"
    assert body["funnel"][0] == {
        "stage": "greeting",
        "reached": 2,
        "conversion_from_previous": None,
    }
    assert body["response_times"]["p50_s"] == 60.0
    assert body["handoff_rate"] is not None
    assert body["ai_share"] == 0.5
    assert body["human_share"] == 0.5
    assert [(p["day"], p["inbound_messages"]) for p in body["series"]] == [
        ("2026-01-02", 2),
        ("2026-01-03", 1),
    ]
    assert body["series"][0]["new_conversations"] == 2
    assert body["llm"] == {"runs": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
