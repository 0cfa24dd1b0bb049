"""Analytics and dashboard KPIs over GraphQL: the same figures as REST for the same range, in
the organisation's timezone or one the caller names."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from funnel.core.models import Organisation, PipelineRun
from funnel.core.models.enums import PipelineRunStatus
from tests import factories
from tests.api.conftest import Tenant
from tests.api.test_dashboard import seed
from tests.api.test_graphql_inbox import gql

DASHBOARD = """
query($from: Date, $to: Date, $tz: String) {
  dashboard(dateFrom: $from, dateTo: $to, timezone: $tz) {
    range { dateFrom dateTo timezone }
    conversations activeLeads highIntentLeads
    messagesByAuthor { author count }
    attention { count oldestRaisedAt }
    medianFirstResponseSeconds aiHandledShare
  }
}
"""
ANALYTICS = """
query($from: Date, $to: Date, $tz: String) {
  analytics(dateFrom: $from, dateTo: $to, timezone: $tz) {
    range { dateFrom dateTo timezone }
    funnel { stage reached conversionFromPrevious }
    responseTimes { p50Seconds p90Seconds }
    handoffRate aiShare humanShare
    cta { offered accepted completed }
    followups { sent repliedWithin24h replyRate }
    llm { runs inputTokens outputTokens costUsd }
    series { day newConversations inboundMessages outboundMessages }
  }
}
"""


async def test_dashboard_matches_rest(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    await seed(api_app, tenant)
    await seed(api_app, other_tenant)
    viewer = await tenant.member("viewer")
    body = await gql(
        client,
        tenant,
        DASHBOARD,
        headers=viewer.headers,
        **{"from": "2026-01-02", "to": "2026-01-02"},
    )
    assert "errors" not in body, body
    kpis = body["data"]["dashboard"]
    rest = (
        await client.get(
            "/dashboard",
            params={"date_from": "2026-01-02", "date_to": "2026-01-02"},
            headers=tenant.owner.headers,
        )
    ).json()
    assert kpis["range"] == {
        "dateFrom": "2026-01-02",
        "dateTo": "2026-01-02",
        "timezone": "Asia/Kolkata",
    }
    assert kpis["conversations"] == rest["conversations"] == 2
    assert kpis["activeLeads"] == rest["active_leads"]
    assert kpis["highIntentLeads"] == rest["high_intent_leads"] == 1
    assert {m["author"]: m["count"] for m in kpis["messagesByAuthor"]} == rest["messages_by_author"]
    assert kpis["attention"]["count"] == rest["attention"]["count"] == 1
    assert kpis["medianFirstResponseSeconds"] == rest["median_first_response_s"] == 60.0
    assert kpis["aiHandledShare"] == rest["ai_handled_share"]

    # The same day in UTC starts 5.5 hours later: the 00:30 IST message falls on 1 January.
    utc = await gql(
        client, tenant, DASHBOARD, **{"from": "2026-01-01", "to": "2026-01-01", "tz": "UTC"}
    )
    rest_utc = (
        await client.get(
            "/dashboard",
            params={"date_from": "2026-01-01", "date_to": "2026-01-01", "timezone": "UTC"},
            headers=tenant.owner.headers,
        )
    ).json()
    assert utc["data"]["dashboard"]["range"]["timezone"] == "UTC"
    assert utc["data"]["dashboard"]["conversations"] == rest_utc["conversations"] == 2
    ist = await gql(client, tenant, DASHBOARD, **{"from": "2026-01-01", "to": "2026-01-01"})
    assert ist["data"]["dashboard"]["conversations"] == 0

    bad_zone = await gql(client, tenant, DASHBOARD, tz="Mars/Olympus")
    assert bad_zone["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    backwards = await gql(client, tenant, DASHBOARD, **{"from": "2026-01-03", "to": "2026-01-01"})
    assert "date_from is after date_to" in backwards["errors"][0]["message"]
    rest_bad = await client.get(
        "/dashboard", params={"timezone": "Mars/Olympus"}, headers=tenant.owner.headers
    )
    assert rest_bad.status_code == 422
    anonymous = await client.post("/graphql", json={"query": "{ dashboard { conversations } }"})
    assert anonymous.json()["data"] is None


async def test_analytics_matches_rest(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    await seed(api_app, tenant)
    body = await gql(client, tenant, ANALYTICS, **{"from": "2026-01-02", "to": "2026-01-03"})
    assert "errors" not in body, body
    figures = body["data"]["analytics"]
    rest = (
        await client.get(
            "/analytics",
            params={"date_from": "2026-01-02", "date_to": "2026-01-03"},
            headers=tenant.owner.headers,
        )
    ).json()
    assert figures["range"]["timezone"] == rest["range"]["timezone"] == "Asia/Kolkata"
    assert [(s["stage"], s["reached"], s["conversionFromPrevious"]) for s in figures["funnel"]] == [
        (s["stage"], s["reached"], s["conversion_from_previous"]) for s in rest["funnel"]
    ]
    assert figures["responseTimes"]["p50Seconds"] == rest["response_times"]["p50_s"] == 60.0
    assert figures["handoffRate"] == rest["handoff_rate"]
    assert (figures["aiShare"], figures["humanShare"]) == (0.5, 0.5)
    assert figures["cta"] == rest["cta"]
    assert figures["followups"]["sent"] == rest["followups"]["sent"]
    assert figures["llm"] == {"runs": 0, "inputTokens": 0, "outputTokens": 0, "costUsd": 0.0}
    assert [(p["day"], p["inboundMessages"], p["newConversations"]) for p in figures["series"]] == [
        (p["day"], p["inbound_messages"], p["new_conversations"]) for p in rest["series"]
    ]
    in_utc = await gql(
        client, tenant, ANALYTICS, **{"from": "2026-01-02", "to": "2026-01-03", "tz": "UTC"}
    )
    rest_utc = (
        await client.get(
            "/analytics",
            params={"date_from": "2026-01-02", "date_to": "2026-01-03", "timezone": "UTC"},
            headers=tenant.owner.headers,
        )
    ).json()
    assert [p["inboundMessages"] for p in in_utc["data"]["analytics"]["series"]] == [
        p["inbound_messages"] for p in rest_utc["series"]
    ]


LLM_SERIES = """
query($from: Date, $to: Date, $tz: String) {
  analytics(dateFrom: $from, dateTo: $to, timezone: $tz) {
    llm { runs inputTokens outputTokens costUsd }
    series { day llmInputTokens llmOutputTokens llmCostUsd }
  }
}
"""


async def seed_runs(app: FastAPI, organisation_id: uuid.UUID) -> None:
    """Three runs: 00:30 and 15:30 on 2 January in Kolkata (the first is still 1 January in
    UTC) and 01:30 on 4 January (3 January in UTC)."""
    runs = [
        (dt.datetime(2026, 1, 1, 19, 0, tzinfo=dt.UTC), 100, 20, "0.0015"),
        (dt.datetime(2026, 1, 2, 10, 0, tzinfo=dt.UTC), 50, 10, "0.0005"),
        (dt.datetime(2026, 1, 3, 20, 0, tzinfo=dt.UTC), 7, 3, "0.0001"),
    ]
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        conversation = await factories.make_conversation(
            session, await factories.make_lead(session, channel)
        )
        for started_at, input_tokens, output_tokens, cost in runs:
            session.add(
                PipelineRun(
                    organisation_id=organisation_id,
                    conversation_id=conversation.id,
                    provider="gemini",
                    status=PipelineRunStatus.SUCCEEDED,
                    started_at=started_at,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    cost_usd=decimal.Decimal(cost),
                )
            )
        await session.commit()


async def test_llm_tokens_and_cost_per_day_in_the_organisations_timezone(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    await seed_runs(api_app, tenant.organisation_id)
    await seed_runs(api_app, other_tenant.organisation_id)
    window: dict[str, Any] = {"from": "2026-01-01", "to": "2026-01-04"}
    body = await gql(client, tenant, LLM_SERIES, **window)
    assert "errors" not in body, body
    series = [
        (p["day"], p["llmInputTokens"], p["llmOutputTokens"], round(p["llmCostUsd"], 6))
        for p in body["data"]["analytics"]["series"]
    ]
    # Zero-filled days, and only this organisation's runs.
    assert series == [
        ("2026-01-01", 0, 0, 0.0),
        ("2026-01-02", 150, 30, 0.002),
        ("2026-01-03", 0, 0, 0.0),
        ("2026-01-04", 7, 3, 0.0001),
    ]
    llm = body["data"]["analytics"]["llm"]
    assert (llm["runs"], llm["inputTokens"], llm["outputTokens"]) == (3, 157, 33)
    rest = (
        await client.get(
            "/analytics",
            params={"date_from": "2026-01-01", "date_to": "2026-01-04"},
            headers=tenant.owner.headers,
        )
    ).json()
    assert [
        (p["day"], p["llm_input_tokens"], p["llm_output_tokens"], round(p["llm_cost_usd"], 6))
        for p in rest["series"]
    ] == series

    in_utc = await gql(client, tenant, LLM_SERIES, tz="UTC", **window)
    assert [
        (p["day"], p["llmInputTokens"], p["llmOutputTokens"])
        for p in in_utc["data"]["analytics"]["series"]
    ] == [
        ("2026-01-01", 100, 20),
        ("2026-01-02", 50, 10),
        ("2026-01-03", 7, 3),
        ("2026-01-04", 0, 0),
    ]
