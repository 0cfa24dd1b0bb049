"""The Graph client against the WhatsApp sandbox: in-process (ASGITransport) and over real HTTP."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from funnel.core.devstack.process import free_port
from funnel.core.sandbox.app import create_sandbox_app
from funnel.core.sandbox.state import SandboxState, ScriptRule
from funnel.core.settings import WhatsAppSettings
from funnel.core.telemetry import bind_context
from funnel.core.whatsapp.errors import (
    ErrorKind,
    GraphApiError,
    GraphAuthError,
    GraphError,
    GraphMediaIntegrityError,
    GraphRecipientError,
    GraphThrottledError,
    GraphTimeoutError,
    GraphTransportError,
    GraphValidationError,
)
from funnel.core.whatsapp.graph import GraphClient, HttpGraphClient
from funnel.core.whatsapp.graph_models import (
    ListRow,
    ListSection,
    MediaRef,
    ReplyButton,
    TemplateComponent,
    build_buttons,
    build_cta_url,
    build_list,
    build_media,
    build_reaction,
    build_template,
    build_text,
    text_parameter,
)
from tests.core.sandbox.support import serve_sandbox

PNID = "106540352242922"
WABA = "102290129340398"
TOKEN = "EAAG-test-token-never-logged"
TO = "919812345678"


@dataclass
class Env:
    client: HttpGraphClient
    state: SandboxState
    http: httpx.AsyncClient
    base_url: str
    transport: str


@pytest.fixture(params=["asgi", "http"])
async def env(request: pytest.FixtureRequest) -> AsyncIterator[Env]:
    state = SandboxState()
    if request.param == "asgi":
        app = create_sandbox_app(state)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            base = "http://graph.sandbox"
            yield Env(_client(http, base), state, http, base, "asgi")
    else:
        with serve_sandbox(state) as running:
            async with httpx.AsyncClient() as http:
                yield Env(_client(http, running.url), state, http, running.url, "http")


def _client(http: httpx.AsyncClient, base: str, **kwargs: object) -> HttpGraphClient:
    settings = WhatsAppSettings(graph_base_url=base, graph_version="v23.0", request_timeout_s=5)
    client = HttpGraphClient.from_settings(
        settings, http, token=kwargs.pop("token", TOKEN), phone_number_id=PNID, waba_id=WABA
    )
    assert not kwargs
    return client


def test_the_implementation_satisfies_the_interface(env: Env) -> None:
    assert isinstance(env.client, GraphClient)
    assert TOKEN not in repr(env.client)


async def test_text_send_records_body_and_callback_data(env: Env) -> None:
    result = await env.client.send_text("+" + TO, "Hi Asha", callback_data="outbox-1")
    [sent] = env.state.sent
    assert sent.body == build_text("+" + TO, "Hi Asha", callback_data="outbox-1")
    assert sent.phone_number_id == PNID
    assert sent.biz_opaque_callback_data == "outbox-1"
    assert sent.wamid == result.wamid
    assert result.wamid.startswith("wamid.")
    # Meta normalises the input; the client reports the canonical wa_id.
    assert result.wa_id == TO
    assert result.input == "+" + TO
    assert result.message_status is None


async def test_every_send_kind_goes_out_in_the_documented_shape(env: Env) -> None:
    c = env.client
    buttons = [ReplyButton("confirm_order:A-1042", "Confirm"), ReplyButton("cancel", "Cancel")]
    sections = [ListSection("Monday", [ListRow("slot_1", "Mon 10:00", "Dr. Rao")])]
    components = [TemplateComponent("body", [text_parameter("Asha")])]
    results = [
        await c.send_buttons(TO, "Confirm?", buttons, callback_data="o2"),
        await c.send_list(TO, "Pick", "Slots", sections, callback_data="o3"),
        await c.send_cta_url(TO, "Track", "Open", "https://e.com/t", callback_data="o4"),
        await c.send_template(TO, "order_update", "en_US", components, callback_data="o5"),
        await c.send_media(TO, "document", MediaRef(id="55"), filename="a.pdf", callback_data="o6"),
        await c.send_reaction(TO, "wamid.IN", "👍", callback_data="o7"),
    ]
    expected = [
        build_buttons(TO, "Confirm?", buttons, callback_data="o2"),
        build_list(TO, "Pick", "Slots", sections, callback_data="o3"),
        build_cta_url(TO, "Track", "Open", "https://e.com/t", callback_data="o4"),
        build_template(TO, "order_update", "en_US", components, callback_data="o5"),
        build_media(TO, "document", MediaRef(id="55"), filename="a.pdf", callback_data="o6"),
        build_reaction(TO, "wamid.IN", "👍", callback_data="o7"),
    ]
    assert [s.body for s in env.state.sent] == expected
    assert [s.biz_opaque_callback_data for s in env.state.sent] == [f"o{i}" for i in range(2, 8)]
    assert len({r.wamid for r in results}) == 6
    # Only template sends carry message_status.
    assert [r.message_status for r in results] == [None, None, None, "accepted", None, None]


async def test_recorded_sends_are_served_newest_last(env: Env) -> None:
    await env.client.send_text(TO, "first", callback_data="a")
    await env.client.send_text("447700900123", "second", callback_data="b")
    await env.client.send_text(TO, "third", callback_data="c")
    response = await env.http.get(f"{env.base_url}/sandbox/sent")
    records = response.json()
    assert [r["body"]["text"]["body"] for r in records] == ["first", "second", "third"]
    assert all(r["wamid"] and r["at"] for r in records)
    only_to = (await env.http.get(f"{env.base_url}/sandbox/sent", params={"to": TO})).json()
    assert [r["biz_opaque_callback_data"] for r in only_to] == ["a", "c"]
    since = (await env.http.get(f"{env.base_url}/sandbox/sent", params={"since": 2})).json()
    assert [r["biz_opaque_callback_data"] for r in since] == ["c"]
    await env.http.delete(f"{env.base_url}/sandbox/sent")
    assert (await env.http.get(f"{env.base_url}/sandbox/sent")).json() == []


async def test_mark_read_with_typing_indicator(env: Env) -> None:
    await env.client.mark_read("wamid.IN1", typing_indicator="text")
    [sent] = env.state.sent
    assert sent.kind == "read"
    assert sent.body == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN1",
        "typing_indicator": {"type": "text"},
    }


async def test_media_upload_metadata_and_download(env: Env) -> None:
    content = bytes(range(256)) * 40 + b"\r\n--boundary-lookalike\r\n\x00"
    media_id = await env.client.upload_media(content, "image/jpeg", "receipt.jpg")
    info = await env.client.get_media(media_id)
    assert info.id == media_id
    assert info.mime_type == "image/jpeg"
    assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert info.file_size == len(content)
    assert info.url.startswith(env.base_url)
    downloaded = await env.client.download_media(media_id)
    assert downloaded.content == content
    assert downloaded.sha256 == info.sha256


async def test_media_url_needs_the_bearer_token(env: Env) -> None:
    blob = env.state.add_media(b"secret bytes", "image/png")
    info = await env.client.get_media(blob.id)
    anonymous = await env.http.get(info.url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == 190


async def test_expired_media_url_is_requested_again(env: Env) -> None:
    blob = env.state.add_media(b"voice note", "audio/ogg", expire_once=True)
    downloaded = await env.client.download_media(blob.id)
    assert downloaded.content == b"voice note"
    # The expiry was hit (the first download 404'd) and the client recovered.
    assert blob.expire_once is False


async def test_tampered_media_fails_the_hash_check(env: Env) -> None:
    blob = env.state.add_media(b"original", "image/jpeg")
    blob.content = b"tampered"
    with pytest.raises(GraphMediaIntegrityError):
        await env.client.download_media(blob.id)


async def test_templates_create_list_with_summary_and_delete(env: Env) -> None:
    components = [{"type": "BODY", "text": "Hi {{1}}", "example": {"body_text": [["Asha"]]}}]
    created = await env.client.create_template("order_update", "en_US", "UTILITY", components)
    assert created.status == "PENDING"
    assert created.category == "UTILITY"
    for i in range(3):
        await env.client.create_template(f"promo_{i}", "en_US", "MARKETING", components)
    first = await env.client.list_templates(limit=3)
    assert [t.name for t in first.templates] == ["order_update", "promo_0", "promo_1"]
    assert first.summary is not None
    assert first.summary.total_count == 4
    assert first.after is not None
    second = await env.client.list_templates(limit=3, after=first.after)
    assert [t.name for t in second.templates] == ["promo_2"]
    assert second.after is None
    pending = await env.client.list_templates(status="PENDING", category="UTILITY")
    assert [t.id for t in pending.templates] == [created.id]
    await env.client.delete_template("order_update")
    assert [t.name for t in (await env.client.list_templates()).templates] == [
        "promo_0",
        "promo_1",
        "promo_2",
    ]


async def test_duplicate_template_is_a_graph_error(env: Env) -> None:
    components = [{"type": "BODY", "text": "Hello"}]
    await env.client.create_template("welcome", "en_US", "UTILITY", components)
    with pytest.raises(GraphError) as info:
        await env.client.create_template("welcome", "en_US", "UTILITY", components)
    assert info.value.code == 100
    assert info.value.subcode == 2388024


async def test_paused_template_send_is_refused_with_132015(env: Env) -> None:
    env.state.templates.setdefault(WABA, []).append(
        {
            "id": "1",
            "name": "promo",
            "language": "en_US",
            "category": "MARKETING",
            "status": "PAUSED",
        }
    )
    with pytest.raises(GraphApiError) as info:
        await env.client.send_template(TO, "promo", "en_US", callback_data="o")
    assert info.value.code == 132015
    assert info.value.kind is ErrorKind.TEMPLATE_UNAVAILABLE


async def test_scripted_throughput_error_is_retryable(env: Env) -> None:
    env.state.script.append(ScriptRule(error_code=130429))
    with pytest.raises(GraphThrottledError) as info:
        await env.client.send_text(TO, "hi", callback_data="o")
    err = info.value
    assert (err.code, err.http_status) == (130429, 429)
    assert err.retryable
    assert err.kind is ErrorKind.THROUGHPUT
    assert err.policy.slow_channel
    # The rule was used up: the next send goes through.
    assert (await env.client.send_text(TO, "hi", callback_data="o")).wamid


async def test_scripted_window_closed_is_not_retryable(env: Env) -> None:
    await env.http.post(
        f"{env.base_url}/sandbox/script",
        json=[{"to": TO, "error_code": 131047, "error_subcode": 2494010}],
    )
    # A rule for another recipient does not fire.
    assert (await env.client.send_text("447700900123", "hi", callback_data="x")).wamid
    with pytest.raises(GraphRecipientError) as info:
        await env.client.send_text(TO, "hi", callback_data="o")
    assert not info.value.retryable
    assert info.value.kind is ErrorKind.WINDOW_CLOSED
    assert info.value.subcode == 2494010
    assert env.state.sent[-1].status == "error"
    assert env.state.sent[-1].error_code == 131047


async def test_scripted_html_503_is_transient(env: Env) -> None:
    env.state.script.append(ScriptRule(phone_number_id=PNID, html_status=503))
    with pytest.raises(GraphTransportError) as info:
        await env.client.send_text(TO, "hi", callback_data="o")
    assert info.value.http_status == 503
    assert info.value.retryable
    assert info.value.kind is ErrorKind.TRANSIENT
    assert info.value.may_have_been_sent


async def test_token_errors_pause_the_channel_and_never_show_the_token(env: Env) -> None:
    env.state.script.append(ScriptRule(error_code=190))
    with pytest.raises(GraphAuthError) as info:
        await env.client.send_text(TO, "hi", callback_data="o")
    assert info.value.http_status == 401
    assert info.value.policy.pause_channel
    assert info.value.policy.alert
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value.__dict__)


async def test_validation_errors_send_nothing(env: Env) -> None:
    with pytest.raises(GraphValidationError):
        await env.client.send_text(TO, "x" * 5000, callback_data="o")
    assert list(env.state.sent) == []


async def test_phone_number_check(env: Env) -> None:
    info = await env.client.get_phone_number()
    assert info.id == PNID
    assert info.display_phone_number
    assert info.quality_rating == "GREEN"


async def test_sandbox_without_a_bearer_token_answers_190(env: Env) -> None:
    response = await env.http.post(f"{env.base_url}/v23.0/{PNID}/messages", json={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190


# ---------------------------------------------------------------- real HTTP only


async def test_wrong_registered_token_is_190() -> None:
    with serve_sandbox(tokens={PNID: "the-right-token"}) as running:
        async with httpx.AsyncClient() as http:
            good = _client(http, running.url, token="the-right-token")
            assert (await good.get_phone_number()).id == PNID
            bad = _client(http, running.url, token=TOKEN)
            with pytest.raises(GraphAuthError) as info:
                await bad.get_phone_number()
            assert info.value.code == 190
            assert info.value.policy.pause_channel
            assert TOKEN not in str(info.value)


async def test_timeout_may_have_been_sent() -> None:
    state = SandboxState()
    state.script.append(ScriptRule(delay_s=1.0))
    with serve_sandbox(state) as running:
        async with httpx.AsyncClient() as http:
            client = HttpGraphClient(
                http, token=TOKEN, phone_number_id=PNID, base_url=running.url, timeout_s=0.2
            )
            with pytest.raises(GraphTimeoutError) as info:
                await client.send_text(TO, "hi", callback_data="outbox-9")
    assert info.value.retryable
    assert info.value.may_have_been_sent
    assert "may have been sent" in str(info.value)
    # And it was: the sandbox, like Meta, accepted it; reconcile by callback data.
    assert [s.biz_opaque_callback_data for s in state.sent] == ["outbox-9"]
    assert state.sent[0].status == "accepted"


async def test_refused_connection_was_not_sent() -> None:
    async with httpx.AsyncClient() as http:
        client = HttpGraphClient(
            http, token=TOKEN, phone_number_id=PNID, base_url=f"http://127.0.0.1:{free_port()}"
        )
        with pytest.raises(GraphTransportError) as info:
            await client.send_text(TO, "hi", callback_data="o")
    assert info.value.retryable
    assert not info.value.may_have_been_sent


async def test_prepared_body_is_sent_as_stored(env: Env) -> None:
    stored = build_buttons(TO, "Confirm?", [ReplyButton("y", "Yes")], callback_data="outbox-77")
    result = await env.client.send_prepared(stored)
    [sent] = env.state.sent
    assert sent.body == stored
    assert sent.biz_opaque_callback_data == "outbox-77"
    assert sent.wamid == result.wamid


@pytest.mark.parametrize(
    "body",
    [
        {"type": "text", "to": TO, "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "to": TO, "text": {"body": "x"}},
        {"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}},
        {**build_text(TO, "x", callback_data="c"), "biz_opaque_callback_data": "c" * 513},
    ],
    ids=["no-product", "no-type", "no-recipient", "callback-too-long"],
)
async def test_malformed_prepared_body_is_refused_locally(
    env: Env, body: dict[str, object]
) -> None:
    with pytest.raises(GraphValidationError):
        await env.client.send_prepared(body)
    assert list(env.state.sent) == []


async def test_bound_correlation_id_travels_with_the_send(env: Env) -> None:
    with bind_context("corr-123"):
        await env.client.send_text(TO, "hi", callback_data="o")
    await env.client.send_text(TO, "hi", callback_data="o")
    assert [s.correlation_id for s in env.state.sent] == ["corr-123", None]


async def test_token_never_reaches_the_logs(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    env.state.script.append(ScriptRule(error_code=190))
    with pytest.raises(GraphAuthError):
        await env.client.send_text(TO, "hi", callback_data="o")
    await env.client.send_text(TO, "hi", callback_data="o")
    assert any(r.msg == "whatsapp.graph.error" for r in caplog.records)
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.__dict__)
