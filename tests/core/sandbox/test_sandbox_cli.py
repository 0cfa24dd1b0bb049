"""`funnel sandbox serve` starts a working sandbox on the given port."""

from __future__ import annotations

import subprocess
import sys

import httpx

from funnel.core.devstack.process import free_port, tcp_ready, wait_until


def test_serve_answers_graph_and_control_endpoints() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "funnel.core.cli",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--token",
            "555=tok",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: tcp_ready("127.0.0.1", port), timeout_s=30, what="sandbox")
        base = f"http://127.0.0.1:{port}"
        sent = httpx.post(
            f"{base}/v23.0/555/messages",
            headers={"Authorization": "Bearer tok"},
            json={
                "messaging_product": "whatsapp",
                "to": "1555000111",
                "type": "text",
                "text": {"body": "hi"},
            },
        )
        assert sent.status_code == 200
        denied = httpx.get(f"{base}/v23.0/555", headers={"Authorization": "Bearer wrong"})
        assert denied.status_code == 401
        records = httpx.get(f"{base}/sandbox/sent").json()
        assert [r["wamid"] for r in records] == [sent.json()["messages"][0]["id"]]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_bad_token_option_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "funnel.core.cli", "sandbox", "serve", "--token", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "PHONE_NUMBER_ID=TOKEN" in result.stderr


def test_webhook_url_needs_an_app_secret() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "funnel.core.cli",
            "sandbox",
            "serve",
            "--webhook-url",
            "http://127.0.0.1:1/webhook",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--app-secret" in result.stderr


def test_the_sandbox_imports_no_database_code() -> None:
    probe = (
        "import sys, funnel.core.sandbox.app, funnel.core.sandbox.cli, funnel.core.simulate\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'asyncpg',"
        " 'alembic') or m.startswith(('funnel.core.db', 'funnel.core.models')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
