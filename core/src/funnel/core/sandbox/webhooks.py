"""Status webhooks from the sandbox: what Meta posts back after each accepted send.

Off unless configured (``funnel sandbox serve --webhook-url … --app-secret …``, or
``POST /sandbox/webhook`` at run time). For each accepted send the sandbox posts ``sent``, then
``delivered``, then ``read`` (configurable), each a separate signed POST in Meta's envelope with
the send's ``biz_opaque_callback_data`` echoed back, so the receiver → worker status path and
the outbox reconciliation run exactly as in production. A script rule with
``async_error_code`` makes the send succeed and then fail by webhook instead (``failed`` with
that error), as 131047, 131026 and 130472 usually do.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from funnel.core.telemetry import get_logger
from funnel.core.whatsapp.errors import ERROR_TITLES

log = get_logger(__name__)

StatusName = Literal["sent", "delivered", "read"]
DEFAULT_STATUSES: tuple[StatusName, ...] = ("sent", "delivered", "read")
ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


class WebhookConfig(BaseModel):
    url: str
    app_secret: str = Field(repr=False)
    waba_id: str = "102290129340398"
    display_phone_number: str = "15550783881"
    statuses: list[StatusName] = Field(default_factory=lambda: list(DEFAULT_STATUSES))
    #: Pause between one status and the next, so they arrive in a realistic order and pace.
    delay_s: float = Field(default=0.1, ge=0.0, le=60.0)
    attempts: int = Field(default=3, ge=1, le=10)


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def status_payload(
    config: WebhookConfig,
    *,
    phone_number_id: str,
    wamid: str,
    status: str,
    recipient: str,
    callback_data: str | None,
    error_code: int | None = None,
) -> bytes:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if error_code is not None:
        title = ERROR_TITLES.get(error_code, "Error")
        item["errors"] = [
            {
                "code": error_code,
                "title": title,
                "message": title,
                "error_data": {"details": title},
                "href": ERROR_HREF,
            }
        ]
    else:
        item["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": config.display_phone_number,
            "phone_number_id": phone_number_id,
        },
        "statuses": [item],
    }
    if error_code is None:
        value["contacts"] = [{"wa_id": recipient}]
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": config.waba_id, "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class StatusNotifier:
    """Posts status webhooks in background tasks, one task per send, statuses in order."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self.delivered = 0
        self.failed = 0

    def schedule(
        self,
        config: WebhookConfig,
        *,
        phone_number_id: str,
        wamid: str,
        recipient: str,
        callback_data: str | None,
        error_code: int | None = None,
    ) -> None:
        task = asyncio.get_running_loop().create_task(
            self._run(config, phone_number_id, wamid, recipient, callback_data, error_code)
        )
        # Keep a reference: the loop holds tasks only weakly.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        config: WebhookConfig,
        phone_number_id: str,
        wamid: str,
        recipient: str,
        callback_data: str | None,
        error_code: int | None,
    ) -> None:
        steps: list[tuple[str, int | None]] = (
            [("failed", error_code)]
            if error_code is not None
            else [(status, None) for status in config.statuses]
        )
        for status, code in steps:
            await asyncio.sleep(config.delay_s)
            body = status_payload(
                config,
                phone_number_id=phone_number_id,
                wamid=wamid,
                status=status,
                recipient=recipient,
                callback_data=callback_data,
                error_code=code,
            )
            await self._post(config, body, status)

    async def _post(self, config: WebhookConfig, body: bytes, status: str) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, config.app_secret),
        }
        for attempt in range(config.attempts):
            try:
                response = await self._http.post(config.url, content=body, headers=headers)
                if response.is_success:
                    self.delivered += 1
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2 * 2**attempt)
        self.failed += 1
        log.warning("sandbox.webhook.undelivered", extra={"status": status})

    async def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Wait for every scheduled status to be posted (tests; shutdown)."""
        if self._tasks:
            await asyncio.wait_for(asyncio.gather(*self._tasks), timeout_s)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
