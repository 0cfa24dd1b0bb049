"""The "try it" simulator: a simulated customer's message on the sandbox channel, signed with
the channel's app secret and posted to the local receiver as Meta would (GraphQL and REST)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from funnel.api.graphql import simulator as simulator_graphql
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.errors import NotFound
from funnel.core.models import Organisation, WhatsAppChannel
from funnel.core.organisations.simulator import SimulateRequest, conversation_of, simulate_inbound
from funnel.core.settings import Environment, Settings
from tests import factories
from tests.api.conftest import Tenant, make_settings
from tests.api.test_graphql_inbox import gql
from tests.core.sandbox.support import Stub, receiver_stub

APP_SECRET = "sandbox-app-secret"
SIMULATE = """
mutation($text: String!, $from: String!) {
  simulateCustomerMessage(text: $text, fromWaId: $from) {
    __typename
    ... on SimulatedMessage { wamid channelId }
    ... on LimitError { problems { field } }
    ... on UserError { message code }
  }
}
"""


@pytest.fixture
def receiver() -> Iterator[Stub]:
    with receiver_stub() as stub:
        yield stub


@pytest.fixture
def api_settings(database_url: str, tmp_path: Path, receiver: Stub) -> Settings:
    (tmp_path / "dev.json").write_text(
        json.dumps({"processes": {"receiver": {"url": receiver.url}}}), encoding="utf-8"
    )
    return make_settings(database_url, state_dir=tmp_path)


async def _sandbox_channel(app: FastAPI, tenant: Tenant) -> str:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(
            session, organisation, app_secret=APP_SECRET, is_sandbox=True
        )
        await session.commit()
        return str(channel.id)


async def test_a_simulated_message_is_a_signed_webhook_on_the_sandbox_channel(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, receiver: Stub
) -> None:
    # Without a sandbox channel there is nothing to simulate on.
    missing = await gql(client, tenant, SIMULATE, text="hi", **{"from": "15550000002"})
    assert missing["data"]["simulateCustomerMessage"]["__typename"] == "ConflictError"
    assert receiver.received == []

    channel_id = await _sandbox_channel(api_app, tenant)
    sent = await gql(
        client, tenant, SIMULATE, text="hi, what does delivery cost?", **{"from": "15550000002"}
    )
    result = sent["data"]["simulateCustomerMessage"]
    assert result["__typename"] == "SimulatedMessage", sent
    assert result["channelId"] == channel_id
    [webhook] = receiver.received
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), webhook.body, hashlib.sha256).hexdigest()
    assert webhook.headers["X-Hub-Signature-256"] == expected
    payload = json.loads(webhook.body)
    value = payload["entry"][0]["changes"][0]["value"]
    message = value["messages"][0]
    assert message["id"] == result["wamid"]
    assert message["text"]["body"] == "hi, what does delivery cost?"
    assert message["from"] == "15550000002"
    async with api_app.state.resources.sessionmaker() as session:
        channel = await session.get(WhatsAppChannel, uuid.UUID(channel_id))
        assert channel is not None
        assert value["metadata"]["phone_number_id"] == channel.phone_number_id
    # No secret in the answer.
    assert APP_SECRET not in json.dumps(sent)

    # REST's counterpart, under /debug.
    rest = await client.post(
        "/debug/simulate",
        json={"text": "and returns?", "from_wa_id": "15550000002"},
        headers=tenant.owner.headers,
    )
    assert rest.status_code == 202, rest.text
    assert len(receiver.received) == 2

    invalid = await gql(client, tenant, SIMULATE, text="hi", **{"from": "+1 555"})
    assert invalid["data"]["simulateCustomerMessage"]["problems"] == [{"field": "from_wa_id"}]
    agent = await tenant.member("agent")
    refused = await gql(
        client, tenant, SIMULATE, headers=agent.headers, text="hi", **{"from": "15550000002"}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(receiver.received) == 2


async def test_the_simulator_does_not_exist_outside_local_environments(
    api_app: FastAPI, api_settings: Settings, tenant: Tenant, receiver: Stub
) -> None:
    await _sandbox_channel(api_app, tenant)
    production = api_settings.model_copy(update={"environment": Environment.PRODUCTION})
    resources = api_app.state.resources
    async with resources.sessionmaker() as session:
        await scope_to_organisation(session, tenant.organisation_id)
        with pytest.raises(NotFound):
            await simulate_inbound(
                session,
                production,
                resources.secret_box,
                resources.http,
                SimulateRequest(text="hi"),
            )
    assert receiver.received == []


WITH_CONVERSATION = """
mutation($text: String!, $from: String!) {
  simulateCustomerMessage(text: $text, fromWaId: $from) {
    __typename
    ... on SimulatedMessage { wamid conversationId }
  }
}
"""


async def test_the_conversation_id_is_null_when_the_worker_has_not_stored_the_message(
    client: httpx.AsyncClient,
    api_app: FastAPI,
    tenant: Tenant,
    receiver: Stub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stub receiver queues nothing, so no worker ever stores it: null after the wait.
    monkeypatch.setattr(simulator_graphql, "CONVERSATION_WAIT_S", 0.3)
    await _sandbox_channel(api_app, tenant)
    variables: dict[str, Any] = {"text": "hi", "from": "15550000003"}
    sent = await gql(client, tenant, WITH_CONVERSATION, **variables)
    result = sent["data"]["simulateCustomerMessage"]
    assert result["__typename"] == "SimulatedMessage", sent
    assert result["conversationId"] is None


async def test_the_conversation_of_a_stored_message_is_found_by_its_wamid_in_the_tenant_only(
    api_app: FastAPI, tenant: Tenant
) -> None:
    channel_id = uuid.UUID(await _sandbox_channel(api_app, tenant))
    async with api_app.state.resources.sessionmaker() as session:
        channel = await session.get(WhatsAppChannel, channel_id)
        assert channel is not None
        lead = await factories.make_lead(session, channel)
        conversation = await factories.make_conversation(session, lead)
        message = await factories.make_message(session, conversation)
        await session.commit()
        wamid, expected = message.wamid, conversation.id
    assert wamid is not None
    async with api_app.state.resources.sessionmaker() as session:
        await scope_to_organisation(session, tenant.organisation_id)
        assert await conversation_of(session, wamid, wait_s=0) == expected
        assert await conversation_of(session, "wamid.unknown", wait_s=0.1, poll_s=0.05) is None
    async with api_app.state.resources.sessionmaker() as session:
        await scope_to_organisation(session, uuid.uuid4())
        assert await conversation_of(session, wamid, wait_s=0) is None
