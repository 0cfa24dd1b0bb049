"""Follow-up sequences over GraphQL: the same service as REST's ``/followup-sequences``."""

from __future__ import annotations

import httpx

from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql

FIELDS = "id name trigger isActive steps { position delayMinutes messageHint templateId }"
RESULT = f"""
  __typename
  ... on FollowupSequence {{ {FIELDS} }}
  ... on LimitError {{ message problems {{ field message }} }}
  ... on UserError {{ message code }}
"""
CREATE = f"""mutation($input: FollowupSequenceInput!) {{
  createFollowupSequence(input: $input) {{ {RESULT} }} }}"""
REPLACE = f"""mutation($id: ID!, $input: FollowupSequenceInput!) {{
  replaceFollowupSequence(id: $id, input: $input) {{ {RESULT} }} }}"""
LIST = f"{{ followupSequences {{ {FIELDS} }} }}"
NUDGES = {
    "name": "Gentle nudges",
    "steps": [
        {"delayMinutes": 60, "messageHint": "Ask if they had a look"},
        {"delayMinutes": 1440, "messageHint": "Offer a call"},
    ],
}


async def test_sequence_lifecycle(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = (await gql(client, tenant, CREATE, input=NUDGES))["data"]["createFollowupSequence"]
    assert created["__typename"] == "FollowupSequence", created
    assert created["trigger"] == "NO_REPLY"
    assert [s["delayMinutes"] for s in created["steps"]] == [60, 1440]

    too_soon = (
        await gql(
            client, tenant, CREATE, input={**NUDGES, "name": "x", "steps": [{"delayMinutes": 0}]}
        )
    )["data"]["createFollowupSequence"]
    assert too_soon["__typename"] == "LimitError"
    assert too_soon["problems"][0]["field"] == "steps.0.delay_minutes"
    duplicate = (await gql(client, tenant, CREATE, input=NUDGES))["data"]["createFollowupSequence"]
    assert duplicate["__typename"] == "ConflictError"

    replaced = (
        await gql(
            client,
            tenant,
            REPLACE,
            id=created["id"],
            input={**NUDGES, "steps": [{"delayMinutes": 30, "messageHint": "Quick check"}]},
        )
    )["data"]["replaceFollowupSequence"]
    assert replaced["steps"] == [
        {"position": 1, "delayMinutes": 30, "messageHint": "Quick check", "templateId": None}
    ]
    listed = (await gql(client, tenant, LIST))["data"]["followupSequences"]
    assert [s["name"] for s in listed] == ["Gentle nudges"]

    deleted = (
        await gql(
            client,
            tenant,
            "mutation($id: ID!) { deleteFollowupSequence(id: $id) { __typename } }",
            id=created["id"],
        )
    )["data"]["deleteFollowupSequence"]
    assert deleted["__typename"] == "Deleted"
    assert (await gql(client, tenant, LIST))["data"]["followupSequences"] == []
