"""Templates over GraphQL: Meta's limits as typed errors, submission, sync, resubmission of a
rejected template, deletion, through the same service as REST's ``/templates``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.settings import Settings, WhatsAppSettings
from funnel.core.templates.service import apply_template_status_update
from tests.api.conftest import Tenant, make_settings
from tests.api.test_graphql_inbox import gql
from tests.api.test_templates import PHONE_NUMBER_ID, TOKEN, WABA_ID, _connect
from tests.core.sandbox.support import RunningSandbox, serve_sandbox


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(tokens={PHONE_NUMBER_ID: TOKEN}) as running:
        yield running


@pytest.fixture
def api_settings(database_url: str, sandbox: RunningSandbox) -> Settings:
    return make_settings(database_url, whatsapp=WhatsAppSettings(graph_base_url=sandbox.url))


FIELDS = "id name language status category purpose components rejectionReason metaTemplateId"
RESULT = f"""
  __typename
  ... on Template {{ {FIELDS} }}
  ... on LimitError {{ message problems {{ field message }} }}
  ... on UserError {{ message code }}
"""
CREATE = (
    f"mutation($input: TemplateCreateInput!) {{ createTemplate(input: $input) {{ {RESULT} }} }}"
)

DRAFT: dict[str, Any] = {
    "name": "visit_reminder",
    "language": "en",
    "category": "UTILITY",
    "purpose": "FOLLOWUP",
    "content": {
        "body": "Hi {{1}}, your visit is on {{2}}. Reply to reschedule.",
        "bodyExamples": ["Asha", "Monday 5 pm"],
        "footer": "Acme Homes",
        "buttons": [{"type": "QUICK_REPLY", "text": "Reschedule"}],
    },
}


def _with_content(**content: Any) -> dict[str, Any]:
    return {**DRAFT, "content": {**DRAFT["content"], **content}}


async def _create(client: httpx.AsyncClient, tenant: Tenant, draft: dict[str, Any]) -> Any:
    body = await gql(client, tenant, CREATE, input=draft)
    assert "errors" not in body, body
    return body["data"]["createTemplate"]


async def test_meta_limits_are_typed_errors_and_nothing_is_stored(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    cases = [
        ({**DRAFT, "name": "Visit Reminder"}, "name"),
        (_with_content(body="x" * 1025), "content.body"),
        (_with_content(footer="y" * 61), "content.footer"),
        (_with_content(footer="Hi {{1}}"), "content"),
        (
            _with_content(buttons=[{"type": "QUICK_REPLY", "text": "z" * 26}]),
            "content.buttons.0.text",
        ),
        (_with_content(bodyExamples=["Asha"]), None),  # two placeholders, one example
        (_with_content(body="Hi {{1}} and {{3}}.", bodyExamples=["a", "b"]), None),
    ]
    for draft, field in cases:
        result = await _create(client, tenant, draft)
        assert result["__typename"] == "LimitError", (draft, result)
        assert result["problems"], result
        if field is not None:
            assert result["problems"][0]["field"] == field, result
    listed = await gql(client, tenant, "{ templates { id } }")
    assert listed["data"]["templates"] == []


async def test_crud_filters_and_roles(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await _create(client, tenant, DRAFT)
    assert created["__typename"] == "Template"
    assert created["status"] == "DRAFT"
    assert created["components"][0] == {
        "type": "BODY",
        "text": DRAFT["content"]["body"],
        "example": {"body_text": [["Asha", "Monday 5 pm"]]},
    }
    duplicate = await _create(client, tenant, DRAFT)
    assert duplicate["__typename"] == "ConflictError"
    await _create(client, tenant, {**DRAFT, "name": "promo", "category": "MARKETING"})

    viewer = await tenant.member("viewer")
    listed = await gql(
        client,
        tenant,
        "query($c: TemplateCategory) { templates(category: $c) { name status language } }",
        headers=viewer.headers,
        c="MARKETING",
    )
    assert listed["data"]["templates"] == [{"name": "promo", "status": "DRAFT", "language": "en"}]
    drafts = await gql(client, tenant, '{ templates(status: DRAFT, language: "en") { name } }')
    assert [t["name"] for t in drafts["data"]["templates"]] == ["promo", "visit_reminder"]
    one = await gql(
        client, tenant, "query($id: ID!) { template(id: $id) { name } }", id=created["id"]
    )
    assert one["data"]["template"] == {"name": "visit_reminder"}
    missing = await gql(client, tenant, '{ template(id: "nope") { name } }')
    assert missing["data"]["template"] is None

    # A viewer cannot write.
    refused = await gql(client, tenant, CREATE, headers=viewer.headers, input=DRAFT)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    update = f"""mutation($id: ID!, $input: TemplateUpdateInput) {{
      updateTemplate(id: $id, input: $input) {{ {RESULT} }} }}"""
    changed = await gql(
        client,
        tenant,
        update,
        id=created["id"],
        input={
            "purpose": "REENGAGEMENT",
            "content": {"body": "Hello there, {{1}}!", "bodyExamples": ["A"]},
        },
    )
    result = changed["data"]["updateTemplate"]
    assert result["purpose"] == "REENGAGEMENT"
    assert result["components"][0]["text"] == "Hello there, {{1}}!"
    too_long = await gql(
        client, tenant, update, id=created["id"], input={"content": {"body": "x" * 2000}}
    )
    assert too_long["data"]["updateTemplate"]["__typename"] == "LimitError"

    deleted = await gql(
        client,
        tenant,
        "mutation($id: ID!) { deleteTemplate(id: $id) { __typename ... on Deleted { id } } }",
        id=created["id"],
    )
    assert deleted["data"]["deleteTemplate"] == {"__typename": "Deleted", "id": created["id"]}
    gone = await gql(
        client, tenant, "query($id: ID!) { template(id: $id) { name } }", id=created["id"]
    )
    assert gone["data"]["template"] is None


async def test_submit_reject_edit_resubmit_and_sync(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, sandbox: RunningSandbox
) -> None:
    created = await _create(client, tenant, DRAFT)
    submit = f"mutation($id: ID!) {{ submitTemplate(id: $id) {{ {RESULT} }} }}"
    resubmit = f"mutation($id: ID!) {{ resubmitTemplate(id: $id) {{ {RESULT} }} }}"
    not_connected = await gql(client, tenant, submit, id=created["id"])
    assert not_connected["data"]["submitTemplate"]["__typename"] == "ConflictError"
    await _connect(api_app, tenant)
    submitted = (await gql(client, tenant, submit, id=created["id"]))["data"]["submitTemplate"]
    assert submitted["status"] == "PENDING", submitted
    meta_id = submitted["metaTemplateId"]
    # Only a rejected template can be resubmitted.
    early = await gql(client, tenant, resubmit, id=created["id"])
    assert early["data"]["resubmitTemplate"]["__typename"] == "ConflictError"

    # Meta rejects it (the webhook path the worker takes).
    remote = sandbox.state.find_template("visit_reminder", "en")
    assert remote is not None
    remote["status"] = "REJECTED"
    async with api_app.state.resources.sessionmaker() as session:
        await scope_to_organisation(session, tenant.organisation_id)
        await apply_template_status_update(
            session,
            tenant.organisation_id,
            {"event": "REJECTED", "message_template_id": meta_id, "reason": "INVALID_FORMAT"},
        )
        await session.commit()
    rejected = await gql(
        client, tenant, f"query($id: ID!) {{ template(id: $id) {{ {FIELDS} }} }}", id=created["id"]
    )
    assert rejected["data"]["template"]["status"] == "REJECTED"
    assert rejected["data"]["template"]["rejectionReason"] == "INVALID_FORMAT"

    # Fixed locally, then sent back for review: edited in place on Meta, same id.
    fixed = await gql(
        client,
        tenant,
        "mutation($id: ID!, $input: TemplateUpdateInput) { updateTemplate(id: $id, input: $input)"
        " { __typename } }",
        id=created["id"],
        input={
            "content": {"body": "Hi {{1}}, see you on {{2}}. Thanks!", "bodyExamples": ["A", "B"]}
        },
    )
    assert fixed["data"]["updateTemplate"]["__typename"] == "Template"
    again = (await gql(client, tenant, resubmit, id=created["id"]))["data"]["resubmitTemplate"]
    assert again["__typename"] == "Template", again
    assert again["status"] == "PENDING"
    assert again["rejectionReason"] is None
    assert again["metaTemplateId"] == meta_id
    assert remote["status"] == "PENDING"
    assert remote["components"][0]["text"] == "Hi {{1}}, see you on {{2}}. Thanks!"

    # The same over REST.
    remote["status"] = "REJECTED"
    synced = await gql(
        client,
        tenant,
        "mutation { syncTemplates { __typename ... on TemplateSyncReport { updated imported } } }",
    )
    assert synced["data"]["syncTemplates"] == {
        "__typename": "TemplateSyncReport",
        "updated": 1,
        "imported": 0,
    }
    rest = await client.post(f"/templates/{created['id']}/resubmit", headers=tenant.owner.headers)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "pending"
    assert sandbox.state.templates[WABA_ID][0]["status"] == "PENDING"
