"""sendMedia, sendList and sendTemplate over GraphQL: the same service and send planner as
REST's ``/messages``, the recipient always the conversation's lead."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from funnel.core.models import Conversation, Lead, MediaObject, Message
from funnel.core.models.enums import TemplateParameterFormat, TemplateStatus
from funnel.core.settings import Settings, WhatsAppSettings
from tests.api.conftest import Tenant, make_settings
from tests.api.test_graphql_inbox import gql
from tests.api.test_messages import PHONE_NUMBER_ID, TOKEN, _outbox, _template, _thread
from tests.core.sandbox.support import RunningSandbox, serve_sandbox

RESULT = """
  __typename
  ... on MessageQueued { verdict queued { id text type } }
  ... on ValidationProblem { message field }
  ... on WindowClosed { message }
  ... on OptedOut { message }
  ... on UserError { message code }
"""
MEDIA = f"""
mutation($id: ID!, $name: String!, $content: String!, $type: String!, $caption: String) {{
  sendMedia(conversationId: $id, filename: $name, contentBase64: $content, contentType: $type,
            caption: $caption) {{ {RESULT} }}
}}
"""
LIST = f"""
mutation($id: ID!, $sections: [ListSectionInput!], $key: String) {{
  sendList(conversationId: $id, text: "Pick a plan", button: "Plans", sections: $sections,
           idempotencyKey: $key) {{ {RESULT} }}
}}
"""
TEMPLATE = f"""
mutation($id: ID!, $template: ID!, $params: [String!], $named: [NamedParameterInput!]) {{
  sendTemplate(conversationId: $id, templateId: $template, parameters: $params,
               namedParameters: $named) {{ {RESULT} }}
}}
"""


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve_sandbox(tokens={PHONE_NUMBER_ID: TOKEN}) as running:
        yield running


@pytest.fixture
def api_settings(database_url: str, sandbox: RunningSandbox) -> Settings:
    return make_settings(database_url, whatsapp=WhatsAppSettings(graph_base_url=sandbox.url))


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


async def test_media_is_checked_uploaded_and_queued_by_media_id(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, sandbox: RunningSandbox
) -> None:
    conversation, _ = await _thread(api_app, tenant)
    agent = await tenant.member("agent")
    common = {"id": str(conversation.id), "caption": "Our brochure"}
    wrong_type = await gql(
        client,
        tenant,
        MEDIA,
        headers=agent.headers,
        name="x.exe",
        content=_b64(b"MZ...."),
        type="application/x-msdownload",
        **common,
    )
    assert wrong_type["data"]["sendMedia"]["__typename"] == "ValidationProblem"
    not_a_pdf = await gql(
        client,
        tenant,
        MEDIA,
        name="b.pdf",
        content=_b64(b"<html>"),
        type="application/pdf",
        **common,
    )
    assert not_a_pdf["data"]["sendMedia"]["message"] == "the file is not application/pdf"
    garbage = await gql(
        client, tenant, MEDIA, name="b.pdf", content="%%%", type="application/pdf", **common
    )
    assert garbage["data"]["sendMedia"]["field"] == "contentBase64"
    sent = await gql(
        client,
        tenant,
        MEDIA,
        headers=agent.headers,
        name="brochure.pdf",
        content=_b64(b"%PDF-1.4 brochure"),
        type="application/pdf",
        **common,
    )
    result = sent["data"]["sendMedia"]
    assert result["__typename"] == "MessageQueued", sent
    assert result["queued"]["type"] == "DOCUMENT"
    [queued] = await _outbox(api_app, conversation)
    media_id = queued.payload["document"]["id"]
    assert media_id in sandbox.state.media
    assert queued.payload["document"]["caption"] == "Our brochure"
    async with api_app.state.resources.sessionmaker() as session:
        message = await session.get(Message, uuid.UUID(result["queued"]["id"]))
        assert message is not None
        stored = await session.get(MediaObject, message.media_id)
        assert stored is not None
        assert stored.whatsapp_media_id == media_id
    viewer = await tenant.member("viewer")
    refused = await gql(
        client,
        tenant,
        MEDIA,
        headers=viewer.headers,
        name="a.pdf",
        content=_b64(b"%PDF-1.4"),
        type="application/pdf",
        **common,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_interactive_list(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, _ = await _thread(api_app, tenant)
    sections = [{"title": "Plans", "rows": [{"id": "basic", "title": "Basic", "description": "x"}]}]
    sent = await gql(client, tenant, LIST, id=str(conversation.id), sections=sections, key="l1")
    assert sent["data"]["sendList"]["__typename"] == "MessageQueued", sent
    again = await gql(client, tenant, LIST, id=str(conversation.id), sections=sections, key="l1")
    assert again["data"]["sendList"]["queued"]["id"] == sent["data"]["sendList"]["queued"]["id"]
    [queued] = await _outbox(api_app, conversation)
    assert queued.payload["interactive"]["type"] == "list"
    assert queued.payload["interactive"]["action"]["button"] == "Plans"
    too_long = [{"rows": [{"id": "a", "title": "t" * 25}]}]
    invalid = await gql(client, tenant, LIST, id=str(conversation.id), sections=too_long)
    assert invalid["data"]["sendList"]["__typename"] == "ValidationProblem"
    assert invalid["data"]["sendList"]["field"] == "sections.0.rows.0.title"

    async with api_app.state.resources.sessionmaker() as session:
        row = await session.get(Conversation, conversation.id)
        assert row is not None
        row.window_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        await session.commit()
    outside = await gql(client, tenant, LIST, id=str(conversation.id), sections=sections)
    assert outside["data"]["sendList"]["__typename"] == "WindowClosed", outside
    async with api_app.state.resources.sessionmaker() as session:
        lead = await session.get(Lead, conversation.lead_id)
        assert lead is not None
        lead.opted_out, lead.opted_out_at = True, dt.datetime.now(dt.UTC)
        await session.commit()
    nothing = await gql(client, tenant, LIST, id=str(conversation.id), sections=sections)
    assert nothing["data"]["sendList"]["__typename"] == "OptedOut"


async def test_templates_with_positional_and_named_parameters(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation, _ = await _thread(api_app, tenant, window_open=False)
    positional = await _template(
        api_app,
        tenant,
        status=TemplateStatus.APPROVED,
        components=[{"type": "BODY", "text": "Your visit is on {{1}} at {{2}}"}],
    )
    named = await _template(
        api_app,
        tenant,
        name="named_visit",
        status=TemplateStatus.APPROVED,
        parameter_format=TemplateParameterFormat.NAMED,
        components=[{"type": "BODY", "text": "See you {{day}}, {{name}}"}],
    )
    short = await gql(
        client, tenant, TEMPLATE, id=str(conversation.id), template=positional, params=["Monday"]
    )
    assert short["data"]["sendTemplate"]["__typename"] == "ValidationProblem"
    sent = await gql(
        client,
        tenant,
        TEMPLATE,
        id=str(conversation.id),
        template=positional,
        params=["Monday", "5 pm"],
    )
    assert sent["data"]["sendTemplate"]["queued"]["text"] == "Your visit is on Monday at 5 pm"
    by_name = await gql(
        client,
        tenant,
        TEMPLATE,
        id=str(conversation.id),
        template=named,
        named=[{"name": "day", "value": "Monday"}, {"name": "name", "value": "Asha"}],
    )
    assert by_name["data"]["sendTemplate"]["__typename"] == "MessageQueued", by_name
    assert by_name["data"]["sendTemplate"]["queued"]["text"] == "See you Monday, Asha"
    missing = await gql(
        client, tenant, TEMPLATE, id=str(conversation.id), template="nope", params=["a"]
    )
    assert missing["data"]["sendTemplate"]["__typename"] == "NotFoundError"
