"""The sandbox's own behaviour: validation like Meta's, scripting, recording, seeding, auth."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from funnel.core.sandbox.app import create_sandbox_app
from funnel.core.sandbox.state import LimitsConfig, SandboxLimits, SandboxState
from funnel.core.whatsapp.ratelimit import ManualClock

PNID = "106540352242922"
WABA = "102290129340398"
AUTH = {"Authorization": "Bearer any-token"}
MESSAGES = f"/v23.0/{PNID}/messages"


def text(to: str = "919812345678", body: str = "hi", **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
        **extra,
    }


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(max_sent=5)


@pytest.fixture
async def http(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_sandbox_app(state, tokens={"999": "only-this"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers=AUTH
    ) as client:
        yield client


async def test_send_answers_in_graph_shape(http: httpx.AsyncClient) -> None:
    response = await http.post(
        MESSAGES, json=text("+919812345678"), headers={"x-correlation-id": "c-1"}
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["messaging_product"] == "whatsapp"
    assert payload["contacts"] == [{"input": "+919812345678", "wa_id": "919812345678"}]
    [message] = payload["messages"]
    assert message["id"].startswith("wamid.HBgM")
    assert "message_status" not in message
    [record] = (await http.get("/sandbox/sent")).json()
    assert record["correlation_id"] == "c-1"
    assert record["wamid"] == message["id"]
    assert record["phone_number_id"] == PNID


async def test_bsuid_recipient_is_answered_with_user_id(http: httpx.AsyncClient) -> None:
    body = text()
    del body["to"]
    body["recipient"] = "IN.1410018717833190"
    response = await http.post(MESSAGES, json=body)
    assert response.json()["contacts"] == [
        {"input": "IN.1410018717833190", "user_id": "IN.1410018717833190"}
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**text(), "messaging_product": "sms"}, 100),
        (text(body="x" * 4097), 100),
        ({**text(), "type": "hologram"}, 131051),
        ({k: v for k, v in text().items() if k != "text"}, 131008),
        ({**text(), "biz_opaque_callback_data": "c" * 513}, 100),
        (
            {
                **text(),
                "type": "image",
                "image": {"id": "1", "link": "https://x"},
            },
            131009,
        ),
        (
            {
                **text(),
                "type": "template",
                "template": {
                    "name": "t",
                    "language": {"code": "en"},
                    "components": [{"type": "x"}],
                },
            },
            131009,
        ),
    ],
    ids=["product", "too-long", "type", "missing-object", "callback", "id-and-link", "component"],
)
async def test_invalid_sends_get_graph_errors(
    http: httpx.AsyncClient, body: dict[str, Any], code: int
) -> None:
    response = await http.post(MESSAGES, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    [record] = (await http.get("/sandbox/sent")).json()
    assert record["status"] == "error"
    assert record["error_code"] == code


@pytest.mark.parametrize("component_type", ["BODY", "body", "Body"])
async def test_template_component_type_in_either_case(
    http: httpx.AsyncClient, component_type: str
) -> None:
    body = {
        **text(),
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": component_type, "parameters": [{"type": "text", "text": "Asha"}]}
            ],
        },
    }
    del body["text"]
    response = await http.post(MESSAGES, json=body)
    assert response.status_code == 200
    assert response.json()["messages"][0]["message_status"] == "accepted"


async def test_seeded_disabled_template_is_refused(http: httpx.AsyncClient) -> None:
    seeded = await http.post(
        "/sandbox/templates",
        json={"waba_id": WABA, "name": "old_promo", "status": "DISABLED"},
    )
    assert seeded.json()["status"] == "DISABLED"
    body = {
        **text(),
        "type": "template",
        "template": {"name": "old_promo", "language": {"code": "en_US"}},
    }
    response = await http.post(MESSAGES, json=body)
    assert response.json()["error"]["code"] == 132016
    listed = (
        await http.get(f"/v23.0/{WABA}/message_templates", params={"summary": "total_count"})
    ).json()
    assert [t["status"] for t in listed["data"]] == ["DISABLED"]
    assert listed["summary"]["total_count"] == 1


async def test_template_list_without_summary_request_has_none(http: httpx.AsyncClient) -> None:
    listed = (await http.get(f"/v23.0/{WABA}/message_templates")).json()
    assert listed["data"] == []
    assert "summary" not in listed


async def test_mark_read_needs_a_message_id(http: httpx.AsyncClient) -> None:
    response = await http.post(MESSAGES, json={"messaging_product": "whatsapp", "status": "read"})
    assert response.json()["error"]["code"] == 131008
    ok = await http.post(
        MESSAGES, json={"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.1"}
    )
    assert ok.json() == {"success": True}


async def test_script_rules_match_count_and_clear(http: httpx.AsyncClient) -> None:
    queued = await http.post(
        "/sandbox/script",
        json=[
            {"phone_number_id": "other", "error_code": 131000},
            {"to": "447700900123", "error_code": 131056, "times": 2},
        ],
    )
    assert queued.json() == {"queued": 2, "pending": 2}
    assert (await http.post(MESSAGES, json=text())).status_code == 200
    for _ in range(2):
        error = (await http.post(MESSAGES, json=text("447700900123"))).json()["error"]
        assert error["code"] == 131056
    assert (await http.post(MESSAGES, json=text("447700900123"))).status_code == 200
    assert [r["phone_number_id"] for r in (await http.get("/sandbox/script")).json()] == ["other"]
    await http.delete("/sandbox/script")
    assert (await http.get("/sandbox/script")).json() == []


@pytest.mark.parametrize(
    ("code", "status"),
    [(130429, 429), (190, 401), (131000, 500), (131016, 503), (131047, 400), (10, 403)],
)
async def test_scripted_codes_come_with_realistic_statuses(
    http: httpx.AsyncClient, code: int, status: int
) -> None:
    await http.post("/sandbox/script", json=[{"error_code": code}])
    response = await http.post(MESSAGES, json=text())
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_scripted_html_page(http: httpx.AsyncClient) -> None:
    await http.post("/sandbox/script", json=[{"html_status": 502}])
    response = await http.post(MESSAGES, json=text())
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")


async def test_script_rule_needs_one_outcome(http: httpx.AsyncClient) -> None:
    response = await http.post("/sandbox/script", json=[{"error_code": 1, "html_status": 503}])
    assert response.status_code == 422


async def test_recorded_sends_are_bounded(http: httpx.AsyncClient) -> None:
    for i in range(8):
        await http.post(MESSAGES, json=text(body=f"m{i}"))
    records = (await http.get("/sandbox/sent")).json()
    assert [r["body"]["text"]["body"] for r in records] == ["m3", "m4", "m5", "m6", "m7"]
    assert [r["seq"] for r in records] == [4, 5, 6, 7, 8]


async def test_seeded_media_with_expire_once(http: httpx.AsyncClient) -> None:
    content = b"\x89PNG fake image"
    seeded = (
        await http.post(
            "/sandbox/media",
            json={
                "media_id": "1480372069425510",
                "content_b64": base64.b64encode(content).decode(),
                "mime_type": "image/png",
                "expire_once": True,
            },
        )
    ).json()
    assert seeded == {"id": "1480372069425510", "sha256": hashlib.sha256(content).hexdigest()}
    info = (await http.get("/v23.0/1480372069425510")).json()
    assert info["file_size"] == str(len(content))
    assert info["sha256"] == seeded["sha256"]
    assert info["url"].startswith("http://sandbox/")
    assert (await http.get(info["url"])).status_code == 404
    again = await http.get(info["url"])
    assert again.status_code == 200
    assert again.content == content


async def test_bad_media_seed_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/sandbox/media", json={"content_b64": "not base64!"})
    assert response.status_code == 422


async def test_upload_needs_messaging_product_and_a_file(http: httpx.AsyncClient) -> None:
    no_product = await http.post(
        f"/v23.0/{PNID}/media", files={"file": ("a.jpg", b"x", "image/jpeg")}
    )
    assert no_product.json()["error"]["code"] == 100
    no_file = await http.post(
        f"/v23.0/{PNID}/media", data={"messaging_product": "whatsapp", "type": "image/jpeg"}
    )
    assert no_file.json()["error"]["code"] == 131008


async def test_registered_token_is_enforced(http: httpx.AsyncClient) -> None:
    wrong = await http.post("/v23.0/999/messages", json=text())
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == 190
    right = await http.post(
        "/v23.0/999/messages", json=text(), headers={"Authorization": "Bearer only-this"}
    )
    assert right.status_code == 200
    # Other numbers accept any token.
    assert (await http.post(MESSAGES, json=text())).status_code == 200


async def test_unknown_version_and_node(http: httpx.AsyncClient) -> None:
    assert (await http.post(f"/latest/{PNID}/messages", json=text())).json()["error"]["code"] == 100
    assert (await http.get("/v23.0/not-a-node")).json()["error"]["code"] == 100


async def test_delete_unknown_template_is_an_error(http: httpx.AsyncClient) -> None:
    response = await http.delete(f"/v23.0/{WABA}/message_templates", params={"name": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    unnamed = await http.delete(f"/v23.0/{WABA}/message_templates")
    assert unnamed.json()["error"]["code"] == 100


async def test_control_payloads_are_validated(http: httpx.AsyncClient) -> None:
    for path, body in [
        ("/sandbox/templates", {"name": "no_waba"}),
        ("/sandbox/phone-numbers", {"token": "x"}),
        ("/sandbox/webhook", {"url": "http://r"}),
        ("/sandbox/script", {"error_code": 1}),
    ]:
        response = await http.post(path, json=body)
        assert response.status_code == 422, path
        assert response.json()["detail"], path


async def test_reset_forgets_everything(http: httpx.AsyncClient, state: SandboxState) -> None:
    await http.post(MESSAGES, json=text())
    await http.post("/sandbox/script", json=[{"error_code": 1}])
    await http.post("/sandbox/reset")
    assert (list(state.sent), state.script) == ([], [])


async def test_throughput_limit_answers_130429_until_time_passes() -> None:
    clock = ManualClock()
    state = SandboxState(limits=SandboxLimits(LimitsConfig(mps=2), clock=clock))
    app = create_sandbox_app(state)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
    ) as http:
        statuses = [
            (await http.post(MESSAGES, json=text(f"1555000{i}"))).status_code for i in range(3)
        ]
        assert statuses == [200, 200, 429]
        refused = (await http.get("/sandbox/sent")).json()[-1]
        assert (refused["status"], refused["error_code"]) == ("error", 130429)
        # Another number has its own budget.
        assert (await http.post("/v23.0/222/messages", json=text())).status_code == 200
        clock.advance(0.5)
        assert (await http.post(MESSAGES, json=text())).status_code == 200


async def test_pair_rate_limit_answers_131056_per_recipient() -> None:
    clock = ManualClock()
    state = SandboxState(limits=SandboxLimits(LimitsConfig(pair_burst=2), clock=clock))
    app = create_sandbox_app(state)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=AUTH
    ) as http:
        codes = [(await http.post(MESSAGES, json=text())).status_code for _ in range(3)]
        assert codes == [200, 200, 400]
        assert (await http.get("/sandbox/sent")).json()[-1]["error_code"] == 131056
        assert (await http.post(MESSAGES, json=text("447700900123"))).status_code == 200
        clock.advance(12)
        assert (await http.post(MESSAGES, json=text())).status_code == 200


async def test_limits_are_configurable_at_run_time(http: httpx.AsyncClient) -> None:
    assert (await http.get("/sandbox/limits")).json() == {"enabled": False}
    await http.post("/sandbox/limits", json={"pair_burst": 1, "pair_interval_s": 3600})
    assert (await http.get("/sandbox/limits")).json()["pair_burst"] == 1
    assert (await http.post(MESSAGES, json=text())).status_code == 200
    assert (await http.post(MESSAGES, json=text())).json()["error"]["code"] == 131056
    await http.delete("/sandbox/limits")
    assert (await http.post(MESSAGES, json=text())).status_code == 200
