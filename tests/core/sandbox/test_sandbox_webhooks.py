"""Status webhooks posted back by the sandbox: signed, in order, echoing the callback data."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from funnel.core.sandbox.state import SandboxState, ScriptRule
from funnel.core.sandbox.webhooks import WebhookConfig
from tests.core.sandbox.support import Received, receiver_stub, serve_sandbox

SECRET = "sandbox-app-secret"
PNID = "106540352242922"


def send(base: str, to: str = "919812345678", callback: str = "outbox-1") -> str:
    response = httpx.post(
        f"{base}/v23.0/{PNID}/messages",
        headers={"Authorization": "Bearer t"},
        json={
            "messaging_product": "whatsapp",
            "to": to,
            "type": "text",
            "text": {"body": "hi"},
            "biz_opaque_callback_data": callback,
        },
    )
    response.raise_for_status()
    return str(response.json()["messages"][0]["id"])


def wait_for(received: list[Received], count: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(received) >= count, f"only {len(received)} of {count} webhooks arrived"


def status_of(received: Received) -> dict[str, Any]:
    value = json.loads(received.body)["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == PNID
    [status] = value["statuses"]
    return dict(status)


def signed(received: Received) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["X-Hub-Signature-256"], expected)


def test_each_send_gets_sent_delivered_read_in_order() -> None:
    with receiver_stub() as stub:
        config = WebhookConfig(url=f"{stub.url}/webhook", app_secret=SECRET, delay_s=0.01)
        with serve_sandbox(webhook=config) as sandbox:
            wamid = send(sandbox.url)
            wait_for(stub.received, 3)
    statuses = [status_of(r) for r in stub.received]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {s["id"] for s in statuses} == {wamid}
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"outbox-1"}
    assert {s["recipient_id"] for s in statuses} == {"919812345678"}
    assert all(isinstance(s["timestamp"], str) for s in statuses)
    assert all(signed(r) for r in stub.received)
    assert stub.received[0].path == "/webhook"
    assert json.loads(stub.received[0].body)["entry"][0]["id"] == config.waba_id


def test_async_failure_is_reported_by_a_failed_status() -> None:
    state = SandboxState()
    state.script.append(ScriptRule(async_error_code=131047))
    with receiver_stub() as stub:
        config = WebhookConfig(url=stub.url, app_secret=SECRET, delay_s=0.01)
        with serve_sandbox(state, webhook=config) as sandbox:
            # Accepted synchronously, like Meta: the failure only comes by webhook.
            wamid = send(sandbox.url, callback="outbox-2")
            wait_for(stub.received, 1)
            time.sleep(0.1)
    [received] = stub.received
    status = status_of(received)
    assert status["status"] == "failed"
    assert status["id"] == wamid
    assert status["biz_opaque_callback_data"] == "outbox-2"
    assert status["errors"][0]["code"] == 131047
    assert "pricing" not in status


def test_webhook_can_be_configured_at_run_time() -> None:
    with receiver_stub() as stub, serve_sandbox() as sandbox:
        send(sandbox.url)
        assert httpx.get(f"{sandbox.url}/sandbox/webhook").json() == {"enabled": False}
        httpx.post(
            f"{sandbox.url}/sandbox/webhook",
            json={"url": stub.url, "app_secret": SECRET, "statuses": ["sent"], "delay_s": 0},
        ).raise_for_status()
        shown = httpx.get(f"{sandbox.url}/sandbox/webhook").json()
        assert shown["enabled"] is True
        assert "app_secret" not in shown
        send(sandbox.url)
        wait_for(stub.received, 1)
        httpx.delete(f"{sandbox.url}/sandbox/webhook").raise_for_status()
        send(sandbox.url)
        time.sleep(0.2)
    assert [status_of(r)["status"] for r in stub.received] == ["sent"]
