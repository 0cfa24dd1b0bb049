"""Settings over GraphQL carry what REST /settings carries: hours, quiet hours, the follow-up
policy, per-stage models and link domains, through the same service, validation and audit."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from funnel.core.models import AuditLog
from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql

FIELDS = """
  businessHours { day ranges { start end } }
  quietHours { start end }
  followupPolicy { maxPer24h maxTotal minGapMinutes }
  llmModels { stage model }
  allowedLinkDomains
"""

UPDATE = f"""
mutation($input: SettingsInput!) {{
  updateSettings(input: $input) {{
    __typename
    ... on Settings {{ {FIELDS} }}
    ... on UserError {{ message code }}
  }}
}}
"""

READ = f"{{ settings {{ {FIELDS} }} }}"

CHANGES = {
    "businessHours": [
        {"day": "tue", "ranges": [{"start": "10:00", "end": "13:00"}]},
        {"day": "mon", "ranges": [{"start": "08:30", "end": "17:45"}]},
        {"day": "sun", "ranges": []},
    ],
    "quietHours": {"start": "22:00", "end": "07:30"},
    "followupPolicy": {"maxPer24h": 2, "maxTotal": 5, "minGapMinutes": 90},
    "llmModels": [{"stage": "mouth", "model": "m-small"}, {"stage": "brain", "model": "m-pro"}],
    "allowedLinkDomains": [" Example.com ", "shop.example.in"],
}


async def test_round_trip_matches_rest_and_is_audited(
    client: httpx.AsyncClient, tenant: Tenant, api_app: FastAPI
) -> None:
    updated = await gql(client, tenant, UPDATE, input=CHANGES)
    result = updated["data"]["updateSettings"]
    assert result["__typename"] == "Settings", updated
    assert result["businessHours"] == [
        {"day": "mon", "ranges": [{"start": "08:30", "end": "17:45"}]},
        {"day": "tue", "ranges": [{"start": "10:00", "end": "13:00"}]},
        {"day": "sun", "ranges": []},
    ]
    assert result["quietHours"] == {"start": "22:00", "end": "07:30"}
    assert result["followupPolicy"] == {"maxPer24h": 2, "maxTotal": 5, "minGapMinutes": 90}
    assert result["llmModels"] == [
        {"stage": "brain", "model": "m-pro"},
        {"stage": "mouth", "model": "m-small"},
    ]
    assert result["allowedLinkDomains"] == ["example.com", "shop.example.in"]
    read = (await gql(client, tenant, READ))["data"]["settings"]
    assert read == {k: v for k, v in result.items() if k != "__typename"}

    rest = (await client.get("/settings", headers=tenant.owner.headers)).json()
    assert rest["business_hours"]["mon"] == [{"start": "08:30", "end": "17:45"}]
    assert set(rest["business_hours"]) == {"mon", "tue", "sun"}
    assert rest["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert rest["followup_policy"] == {"max_per_24h": 2, "max_total": 5, "min_gap_minutes": 90}
    assert rest["llm_models"] == {"brain": "m-pro", "mouth": "m-small"}
    assert rest["allowed_link_domains"] == ["example.com", "shop.example.in"]

    async with api_app.state.resources.sessionmaker() as session:
        row = (
            await session.scalars(
                sa.select(AuditLog).where(
                    AuditLog.organisation_id == tenant.organisation_id,
                    AuditLog.action == "organisation.settings_updated",
                )
            )
        ).one()
    assert row.changes["llm_models"]["to"] == {"brain": "m-pro", "mouth": "m-small"}
    assert row.actor_user_id == tenant.owner.user_id
    assert str(row.ip) == "203.0.113.7"


async def test_clearing_quiet_hours_and_the_policy_reads_back_as_null(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await gql(client, tenant, UPDATE, input=CHANGES)
    cleared = await gql(client, tenant, UPDATE, input={"quietHours": None, "followupPolicy": None})
    result = cleared["data"]["updateSettings"]
    assert result["__typename"] == "Settings", cleared
    assert (result["quietHours"], result["followupPolicy"]) == (None, None)
    assert result["llmModels"] == [  # untouched
        {"stage": "brain", "model": "m-pro"},
        {"stage": "mouth", "model": "m-small"},
    ]
    rest = (await client.get("/settings", headers=tenant.owner.headers)).json()
    assert (rest["quiet_hours"], rest["followup_policy"]) == (None, None)


async def test_invalid_values_are_validation_errors_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    before = (await gql(client, tenant, READ))["data"]["settings"]
    bad_inputs = [
        {"quietHours": {"start": "25:00", "end": "08:00"}},
        {"businessHours": [{"day": "someday", "ranges": []}]},
        {"businessHours": [{"day": "mon", "ranges": [{"start": "9am", "end": "18:00"}]}]},
        {"followupPolicy": {"maxPer24h": 11, "maxTotal": 5, "minGapMinutes": 90}},
        {"followupPolicy": {"maxPer24h": 1, "maxTotal": 5, "minGapMinutes": 0}},
        {"llmModels": [{"stage": "ears", "model": "m"}]},
        {"llmModels": [{"stage": "brain", "model": ""}]},
        {"allowedLinkDomains": ["example.com/path"]},
        {"allowedLinkDomains": [f"d{i}.example.com" for i in range(51)]},
        {"quietHours": {"start": "22:00", "end": "07:00"}, "replyWordLimit": 2},
    ]
    for bad in bad_inputs:
        body = await gql(client, tenant, UPDATE, input=bad)
        result = body["data"]["updateSettings"]
        assert result["__typename"] == "ValidationError", (bad, body)
        assert result["code"] == "validation_failed"
        assert result["message"]
    assert (await gql(client, tenant, READ))["data"]["settings"] == before


async def test_viewer_reads_but_cannot_change(client: httpx.AsyncClient, tenant: Tenant) -> None:
    viewer = await tenant.member("viewer")
    read = await gql(client, tenant, READ, headers=viewer.headers)
    assert "errors" not in read, read
    refused = await gql(client, tenant, UPDATE, headers=viewer.headers, input={"quietHours": None})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["data"] is None or refused["data"]["updateSettings"] is None
