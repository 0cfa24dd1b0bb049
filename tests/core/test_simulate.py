"""`funnel simulate`: a webhook built and signed as Meta would, posted to a receiver stub."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from funnel.core.simulate import (
    SimulateError,
    build_text_webhook,
    load_dev_defaults,
    run_simulate,
    signature_header,
)
from tests.core.sandbox.support import Received, receiver_stub, serve_sandbox

SECRET = "test_app_secret"
PNID = "106540352242922"


def verify(received: Received, secret: str = SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["X-Hub-Signature-256"], expected)


def test_signature_matches_the_protocol_doc_vector() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert signature_header(body, SECRET) == (
        "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
    )


def test_payload_is_the_meta_envelope() -> None:
    body, wamid = build_text_webhook(
        wa_id="919812345678",
        text="मेरा ऑर्डर कब आएगा?",
        phone_number_id=PNID,
        name="Asha Verma",
        user_id="IN.1410018717833190",
        timestamp=1764238453,
    )
    payload = json.loads(body)
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == "102290129340398"
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550783881", "phone_number_id": PNID}
    assert value["contacts"] == [
        {
            "profile": {"name": "Asha Verma"},
            "wa_id": "919812345678",
            "user_id": "IN.1410018717833190",
        }
    ]
    assert value["messages"] == [
        {
            "from": "919812345678",
            "id": wamid,
            "timestamp": "1764238453",
            "type": "text",
            "text": {"body": "मेरा ऑर्डर कब आएगा?"},
            "from_user_id": "IN.1410018717833190",
        }
    ]
    # Raw UTF-8 on the wire, as Meta sends it.
    assert "मेरा".encode() in body


def test_every_simulated_message_gets_a_fresh_wamid() -> None:
    wamids = {build_text_webhook(wa_id="1", text="x", phone_number_id=PNID)[1] for _ in range(50)}
    assert len(wamids) == 50


def test_posts_signed_bytes_to_the_receiver(tmp_path: Path) -> None:
    with receiver_stub() as stub:
        code = run_simulate(
            wa_id="+919812345678",
            text="Hi, where is my order #A-1042?",
            name="Asha",
            receiver=f"{stub.url}/webhook",
            phone_number_id=PNID,
            app_secret=SECRET,
            state_dir=tmp_path,
        )
    assert code == 0
    [received] = stub.received
    assert received.path == "/webhook"
    assert received.headers["Content-Type"] == "application/json"
    assert verify(received)
    assert not verify(received, "another-secret")
    message = json.loads(received.body)["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["from"] == "919812345678"
    assert message["text"]["body"] == "Hi, where is my order #A-1042?"


def write_dev_json(state_dir: Path, **processes: Any) -> None:
    (state_dir / "dev.json").write_text(
        json.dumps(
            {
                "processes": processes,
                "channel": {
                    "phone_number_id": "777",
                    "app_secret": "dev-secret",
                    "waba_id": "888",
                    "display_phone_number": "15550001111",
                },
            }
        )
    )


def test_defaults_come_from_dev_json(tmp_path: Path) -> None:
    with receiver_stub() as stub:
        write_dev_json(tmp_path, receiver={"url": stub.url})
        assert run_simulate(wa_id="4477", text="hello", state_dir=tmp_path) == 0
    [received] = stub.received
    assert received.path == "/webhook"
    assert verify(received, "dev-secret")
    value = json.loads(received.body)["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": "777"}
    assert json.loads(received.body)["entry"][0]["id"] == "888"


def test_dev_json_webhook_url_and_options_override(tmp_path: Path) -> None:
    write_dev_json(tmp_path, receiver={"url": "http://unused", "webhook_url": "http://w/hook"})
    assert load_dev_defaults(tmp_path).receiver_url == "http://w/hook"
    with receiver_stub() as stub:
        code = run_simulate(
            wa_id="4477",
            text="hello",
            receiver=f"{stub.url}/custom",
            app_secret="explicit",
            state_dir=tmp_path,
        )
    assert code == 0
    assert stub.received[0].path == "/custom"
    assert verify(stub.received[0], "explicit")


def test_missing_options_without_dev_json_are_named(tmp_path: Path) -> None:
    with pytest.raises(SimulateError, match="--receiver, --phone-number-id, --app-secret"):
        run_simulate(wa_id="1", text="x", state_dir=tmp_path)
    with pytest.raises(SimulateError, match="--sandbox"):
        run_simulate(
            wa_id="1",
            text="x",
            receiver="http://r",
            phone_number_id="1",
            app_secret="s",
            wait=True,
            state_dir=tmp_path,
        )


def test_corrupt_dev_json_is_reported(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text("{not json")
    with pytest.raises(SimulateError, match=r"dev\.json"):
        load_dev_defaults(tmp_path)


def test_receiver_refusal_is_a_failure(tmp_path: Path) -> None:
    with receiver_stub(status=403) as stub:
        code = run_simulate(
            wa_id="1",
            text="x",
            receiver=stub.url,
            phone_number_id=PNID,
            app_secret=SECRET,
            state_dir=tmp_path,
        )
    assert code == 1


def test_unreachable_receiver_is_a_clear_error(tmp_path: Path) -> None:
    from funnel.core.devstack.process import free_port

    with pytest.raises(SimulateError, match="could not reach the receiver"):
        run_simulate(
            wa_id="1",
            text="x",
            receiver=f"http://127.0.0.1:{free_port()}/webhook",
            phone_number_id=PNID,
            app_secret=SECRET,
            state_dir=tmp_path,
        )


def test_wait_prints_the_reply_from_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_sandbox() as sandbox:
        # An old send to the same customer must not be mistaken for the reply.
        httpx.post(
            f"{sandbox.url}/v23.0/{PNID}/messages",
            headers={"Authorization": "Bearer t"},
            json={
                "messaging_product": "whatsapp",
                "to": "4477",
                "type": "text",
                "text": {"body": "old"},
            },
        )

        def reply(body: bytes) -> None:
            message = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]
            httpx.post(
                f"{sandbox.url}/v23.0/777/messages",
                headers={"Authorization": "Bearer t"},
                json={
                    "messaging_product": "whatsapp",
                    "to": message["from"],
                    "type": "text",
                    "text": {"body": f"You said: {message['text']['body']}"},
                },
            )

        with receiver_stub(on_post=reply) as stub:
            write_dev_json(tmp_path, receiver={"url": stub.url}, sandbox={"url": sandbox.url})
            code = run_simulate(
                wa_id="4477", text="price list please", wait=True, timeout_s=10, state_dir=tmp_path
            )
    assert code == 0
    out = capsys.readouterr().out
    assert "You said: price list please" in out
    assert out.count("\nreply ") + out.startswith("reply ") == 1


def test_wait_without_a_reply_times_out(tmp_path: Path) -> None:
    with serve_sandbox() as sandbox, receiver_stub() as stub:
        write_dev_json(tmp_path, receiver={"url": stub.url}, sandbox={"url": sandbox.url})
        code = run_simulate(
            wa_id="4477", text="hello", wait=True, timeout_s=0.5, state_dir=tmp_path
        )
    assert code == 1


def test_cli_posts_and_reports(tmp_path: Path) -> None:
    env = {**os.environ, "FUNNEL_STATE_DIR": str(tmp_path)}
    missing = subprocess.run(
        [sys.executable, "-m", "funnel.core.cli", "simulate", "--from", "1", "--text", "hi"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert missing.returncode == 2
    assert "--receiver" in missing.stderr
    with receiver_stub() as stub:
        ok = subprocess.run(
            [
                sys.executable,
                "-m",
                "funnel.core.cli",
                "simulate",
                "--from",
                "919812345678",
                "--text",
                "hi",
                "--name",
                "Asha",
                "--receiver",
                f"{stub.url}/webhook",
                "--phone-number-id",
                PNID,
                "--app-secret",
                SECRET,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    assert ok.returncode == 0, ok.stderr
    assert "HTTP 200" in ok.stdout
    assert verify(stub.received[0])
    assert SECRET not in ok.stdout + ok.stderr
