"""Analytics and dashboard KPIs over GraphQL: the same figures as REST for the same range, in
the organisation's timezone or one the caller names."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

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
