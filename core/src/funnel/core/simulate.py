"""``funnel simulate``: play a WhatsApp customer against the local platform.

Builds the webhook Meta would send for one inbound text message (the envelope of protocol doc
§1.5: WABA id in ``entry[].id``, the contact with its profile name, a fresh wamid, a string
timestamp), signs the exact bytes it posts with ``X-Hub-Signature-256``, and POSTs them to the
receiver. With ``--wait`` it then polls the WhatsApp sandbox's ``/sandbox/sent`` for the reply
to that customer and prints it.

Defaults come from ``<state_dir>/dev.json``, which ``funnel dev`` writes:
``processes.receiver.url`` (plus ``processes.receiver.webhook_url`` when the receiver's callback
is not at ``/webhook``), ``processes.sandbox.url`` and ``channel.{phone_number_id, app_secret,
waba_id, display_phone_number}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from funnel.core.settings import get_settings

DEV_FILE = "dev.json"
WEBHOOK_PATH = "/webhook"
DEFAULT_WABA_ID = "102290129340398"
DEFAULT_DISPLAY_NUMBER = "15550783881"


class SimulateError(RuntimeError):
    """Something the user has to fix: a missing option, an unreachable receiver."""


@dataclass(frozen=True, slots=True)
class DevDefaults:
    receiver_url: str | None = None
    sandbox_url: str | None = None
    phone_number_id: str | None = None
    app_secret: str | None = None
    waba_id: str | None = None
    display_phone_number: str | None = None


def _get(data: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return str(data) if data not in (None, "") else None


def load_dev_defaults(state_dir: Path) -> DevDefaults:
    """What ``funnel dev`` recorded about the running platform; empty when it is not running."""
    path = state_dir / DEV_FILE
    if not path.is_file():
        return DevDefaults()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SimulateError(f"{path} is not readable JSON ({exc})") from exc
    receiver = _get(data, "processes", "receiver", "webhook_url")
    if receiver is None:
        base = _get(data, "processes", "receiver", "url")
        receiver = base.rstrip("/") + WEBHOOK_PATH if base else None
    return DevDefaults(
        receiver_url=receiver,
        sandbox_url=_get(data, "processes", "sandbox", "url"),
        phone_number_id=_get(data, "channel", "phone_number_id"),
        app_secret=_get(data, "channel", "app_secret"),
        waba_id=_get(data, "channel", "waba_id"),
        display_phone_number=_get(data, "channel", "display_phone_number"),
    )


def new_wamid(wa_id: str) -> str:
    raw = f"{wa_id}\x15\x02\x00\x12\x18\x20{secrets.token_hex(10).upper()}".encode()
    return "wamid.HBgM" + base64.b64encode(raw).decode()


def build_text_webhook(
    *,
    wa_id: str,
    text: str,
    phone_number_id: str,
    name: str | None = None,
    user_id: str | None = None,
    waba_id: str = DEFAULT_WABA_ID,
    display_phone_number: str = DEFAULT_DISPLAY_NUMBER,
    wamid: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, str]:
    """The raw webhook body for one inbound text message, and its wamid."""
    wamid = wamid or new_wamid(wa_id)
    contact: dict[str, Any] = {"wa_id": wa_id}
    if name:
        contact = {"profile": {"name": name}, **contact}
    message: dict[str, Any] = {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_phone_number,
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [contact],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }
    # Compact, raw UTF-8, like Meta's own deliveries; the signature covers these exact bytes.
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, wamid


def signature_header(body: bytes, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post_webhook(http: httpx.Client, receiver_url: str, body: bytes, app_secret: str) -> int:
    try:
        response = http.post(
            receiver_url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature_header(body, app_secret),
                "User-Agent": "facebookexternalua",
            },
        )
    except httpx.HTTPError as exc:
        raise SimulateError(f"could not reach the receiver at {receiver_url}: {exc}") from exc
    return response.status_code


def last_sent_seq(http: httpx.Client, sandbox_url: str) -> int:
    records = _sent(http, sandbox_url, {})
    return max((int(r.get("seq", 0)) for r in records), default=0)


def _sent(http: httpx.Client, sandbox_url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        response = http.get(f"{sandbox_url.rstrip('/')}/sandbox/sent", params=params)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SimulateError(f"could not read the sandbox at {sandbox_url}: {exc}") from exc
    data = response.json()
    return data if isinstance(data, list) else []


def wait_for_reply(
    http: httpx.Client,
    sandbox_url: str,
    wa_id: str,
    *,
    since: int,
    timeout_s: float,
    poll_s: float = 0.25,
) -> list[dict[str, Any]]:
    """Accepted sends to ``wa_id`` recorded after ``since``; empty when none came in time.

    Replies in several parts are collected until the sandbox has been quiet for a moment.
    """
    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        records = [
            r
            for r in _sent(http, sandbox_url, {"to": wa_id, "since": since})
            if r.get("kind") == "message" and r.get("status") == "accepted"
        ]
        if len(records) > len(found):
            found, quiet_since = records, time.monotonic()
        elif found and quiet_since is not None and time.monotonic() - quiet_since >= 1.0:
            break
        time.sleep(poll_s)
    return found


def describe(record: dict[str, Any]) -> str:
    """A one-line human rendering of a recorded send."""
    body = record.get("body") or {}
    kind = body.get("type")
    if kind == "text":
        return str(body.get("text", {}).get("body", ""))
    if kind == "interactive":
        inner = body.get("interactive", {})
        text = inner.get("body", {}).get("text", "")
        action = inner.get("action", {})
        if inner.get("type") == "button":
            titles = [b.get("reply", {}).get("title", "") for b in action.get("buttons", [])]
            return f"{text}  [{' | '.join(titles)}]"
        if inner.get("type") == "list":
            return f"{text}  [list: {action.get('button', '')}]"
        if inner.get("type") == "cta_url":
            params = action.get("parameters", {})
            return f"{text}  [{params.get('display_text', '')} -> {params.get('url', '')}]"
        return str(text)
    if kind == "template":
        template = body.get("template", {})
        return f"[template {template.get('name')} ({template.get('language', {}).get('code')})]"
    return f"[{kind}]"


def simulate(
    from_: Annotated[str, typer.Option("--from", help="The customer's wa_id (digits, no +).")],
    text: Annotated[str, typer.Option(help="The message the customer sends.")],
    name: Annotated[str, typer.Option(help="The customer's WhatsApp profile name.")] = "Asha",
    receiver: Annotated[
        str | None, typer.Option(help="Webhook URL to POST to (default: from dev.json).")
    ] = None,
    phone_number_id: Annotated[
        str | None, typer.Option(help="Business phone number id (default: from dev.json).")
    ] = None,
    app_secret: Annotated[
        str | None, typer.Option(help="App secret to sign with (default: from dev.json).")
    ] = None,
    waba_id: Annotated[str | None, typer.Option(help="WABA id for entry[].id.")] = None,
    user_id: Annotated[
        str | None, typer.Option(help="Business-scoped user id (BSUID) to include.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the reply in the sandbox and print it.")] = (
        False
    ),
    sandbox: Annotated[
        str | None, typer.Option(help="Sandbox URL for --wait (default: from dev.json).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a reply.")] = 60.0,
) -> None:
    """Send a customer's WhatsApp text to the local receiver, signed exactly as Meta signs."""
    try:
        raise typer.Exit(
            run_simulate(
                wa_id=from_,
                text=text,
                name=name,
                receiver=receiver,
                phone_number_id=phone_number_id,
                app_secret=app_secret,
                waba_id=waba_id,
                user_id=user_id,
                wait=wait,
                sandbox=sandbox,
                timeout_s=timeout,
                state_dir=get_settings().state_dir,
            )
        )
    except SimulateError as exc:
        typer.echo(f"funnel simulate: {exc}", err=True)
        raise typer.Exit(2) from None


def run_simulate(
    *,
    wa_id: str,
    text: str,
    state_dir: Path,
    name: str | None = None,
    receiver: str | None = None,
    phone_number_id: str | None = None,
    app_secret: str | None = None,
    waba_id: str | None = None,
    user_id: str | None = None,
    wait: bool = False,
    sandbox: str | None = None,
    timeout_s: float = 60.0,
    http: httpx.Client | None = None,
) -> int:
    """The command's body, callable from tests. Returns the exit code."""
    dev = load_dev_defaults(state_dir)
    receiver = receiver or dev.receiver_url
    phone_number_id = phone_number_id or dev.phone_number_id
    app_secret = app_secret or dev.app_secret
    sandbox = sandbox or dev.sandbox_url
    missing = [
        option
        for option, value in (
            ("--receiver", receiver),
            ("--phone-number-id", phone_number_id),
            ("--app-secret", app_secret),
        )
        if not value
    ]
    if wait and not sandbox:
        missing.append("--sandbox")
    if missing:
        raise SimulateError(
            f"{', '.join(missing)} required: no running `funnel dev` found "
            f"({state_dir / DEV_FILE} is missing or lacks them)"
        )
    # Narrowing only: the check above has already refused empty values.
    assert receiver
    assert phone_number_id
    assert app_secret
    wa_id = wa_id.lstrip("+")
    body, wamid = build_text_webhook(
        wa_id=wa_id,
        text=text,
        phone_number_id=phone_number_id,
        name=name,
        user_id=user_id,
        waba_id=waba_id or dev.waba_id or DEFAULT_WABA_ID,
        display_phone_number=dev.display_phone_number or DEFAULT_DISPLAY_NUMBER,
    )
    own = http is None
    client = http or httpx.Client(timeout=10.0)
    try:
        since = last_sent_seq(client, sandbox) if wait and sandbox else 0
        status = post_webhook(client, receiver, body, app_secret)
        typer.echo(f"posted {wamid} to {receiver}: HTTP {status}")
        if status != 200:
            return 1
        if not (wait and sandbox):
            return 0
        replies = wait_for_reply(client, sandbox, wa_id, since=since, timeout_s=timeout_s)
        if not replies:
            typer.echo(f"no reply to {wa_id} within {timeout_s:.0f}s", err=True)
            return 1
        for record in replies:
            typer.echo(f"reply {record.get('wamid')}: {describe(record)}")
        return 0
    finally:
        if own:
            client.close()
