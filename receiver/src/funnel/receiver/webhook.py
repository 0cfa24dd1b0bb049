"""``GET /webhook`` (Meta's verification handshake) and ``POST /webhook`` (deliveries).

The POST path, in order, and why:

1. Read the raw body. The signature covers these exact bytes; nothing re-encodes them.
2. Check ``X-Hub-Signature-256`` against the app secrets of the channels this deployment serves,
   before parsing anything: an unsigned body costs one HMAC, never a JSON parse. Missing → 401,
   wrong → 403, nothing enqueued.
3. Parse just enough to route (``metadata.phone_number_id``) and count events. A signed body
   that is not a webhook is dead-lettered with its reason and answered 200: it came from Meta,
   and a 4xx would only make Meta redeliver the same bytes for seven days.
4. Enqueue to SQS and answer 200 only once SQS accepted it; if SQS fails, 503 so Meta retries.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from funnel.core.contracts.sqs import SqsWebhookMessage, fits, max_raw_bytes
from funnel.core.settings import DEV_PLACEHOLDER, Settings
from funnel.core.telemetry import bind_context, get_logger, new_correlation_id
from funnel.core.telemetry.context import CORRELATION_HEADER
from funnel.core.whatsapp.signature import SIGNATURE_HEADER, SignatureResult, verify_signature
from funnel.core.whatsapp.webhook import (
    OBJECT_WHATSAPP,
    WebhookEvent,
    WebhookParseError,
    WebhookSummary,
    build_envelope,
    split_events,
    summarize,
)
from funnel.receiver import metrics
from funnel.receiver.publisher import Publisher, PublishError

log = get_logger("funnel.receiver.webhook")

#: Meta documents payloads of up to about 3 MB; anything far beyond is refused before hashing.
MAX_BODY_BYTES = 16 * 1024 * 1024

_OUTCOMES = {
    name: metrics.WEBHOOK_REQUESTS.labels(outcome=name)
    for name in (
        "accepted",
        "dead_lettered",
        "signature_missing",
        "signature_invalid",
        "unavailable",
        "too_large",
        "handshake_ok",
        "handshake_rejected",
    )
}
_POST_DURATION = metrics.REQUEST_DURATION.labels(method="POST")


@dataclass(frozen=True)
class _SecretGroup:
    secrets: tuple[str, ...]
    phone_number_ids: frozenset[str]


class TooLarge(Exception):
    """One event is bigger than an SQS message on its own."""


class WebhookHandler:
    """The webhook endpoints' state, built once from settings."""

    def __init__(self, settings: Settings, publisher: Publisher) -> None:
        self.publisher = publisher
        self.max_message_bytes = settings.sqs.max_message_bytes
        channels = settings.whatsapp.channels
        self.organisations = {c.phone_number_id: c.organisation_id or None for c in channels}
        # Channels sharing a set of app secrets (numbers of one Meta app) are checked with one
        # HMAC per secret, however many numbers they hold.
        groups: dict[tuple[str, ...], set[str]] = {}
        for channel in channels:
            key = tuple(s.get_secret_value() for s in channel.app_secrets)
            groups.setdefault(key, set()).add(channel.phone_number_id)
        self.secret_groups = [_SecretGroup(k, frozenset(v)) for k, v in groups.items()]
        tokens = [c.verify_token.get_secret_value() for c in channels]
        global_token = settings.whatsapp.verify_token.get_secret_value()
        # The global token defaults to a development placeholder, which must not open the
        # handshake of a deployed receiver.
        if settings.environment.is_local or global_token.strip() not in ("", DEV_PLACEHOLDER):
            tokens.append(global_token)
        self.verify_tokens = [t.encode() for t in tokens if t]

    # ------------------------------------------------------------------ GET

    def handshake(self, mode: str | None, token: str | None, challenge: str | None) -> Response:
        if mode is None or token is None or challenge is None:
            _OUTCOMES["handshake_rejected"].inc()
            return PlainTextResponse("missing hub.mode, hub.verify_token or hub.challenge", 400)
        matched = False
        for expected in self.verify_tokens:
            matched |= hmac.compare_digest(expected, token.encode())
        if mode != "subscribe" or not matched:
            _OUTCOMES["handshake_rejected"].inc()
            log.warning("webhook.handshake_rejected", extra={"mode": mode})
            return PlainTextResponse("forbidden", 403)
        _OUTCOMES["handshake_ok"].inc()
        log.info("webhook.handshake_ok")
        return PlainTextResponse(challenge, 200)

    # ------------------------------------------------------------------ POST

    async def receive(self, request: Request) -> Response:
        started = time.perf_counter()
        cid = new_correlation_id()
        with bind_context(cid):
            response = await self._receive(request, cid)
        response.headers[CORRELATION_HEADER] = cid
        _POST_DURATION.observe(time.perf_counter() - started)
        return response

    async def _receive(self, request: Request, cid: str) -> Response:
        raw = await _read_body(request)
        if raw is None:
            _OUTCOMES["too_large"].inc()
            log.warning("webhook.body_too_large", extra={"limit": MAX_BODY_BYTES})
            return Response(status_code=413)

        header = request.headers.get(SIGNATURE_HEADER)
        verified: set[str] = set()
        result = SignatureResult.MISSING if header is None else SignatureResult.MISMATCH
        for group in self.secret_groups:
            outcome = verify_signature(raw, header, group.secrets)
            if outcome is SignatureResult.OK:
                verified |= group.phone_number_ids
            result = SignatureResult.OK if verified else outcome
        if result is not SignatureResult.OK:
            return self._refuse(result, len(raw))

        received_at = datetime.now(UTC)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return await self._dead_letter(raw, cid, received_at, f"body is not JSON: {exc}")
        if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
            return await self._dead_letter(raw, cid, received_at, "not a webhook envelope")

        summary = summarize(body)
        # Any channel's secret verifies the body, but a number this deployment serves must be
        # signed by its own app's secret: one tenant cannot post events for another's number.
        foreign = [
            p for p in summary.phone_number_ids if p in self.organisations and p not in verified
        ]
        if foreign:
            return self._refuse(SignatureResult.MISMATCH, len(raw), reason="wrong_channel")
        unserved = [p for p in summary.phone_number_ids if p not in self.organisations]
        if unserved:
            log.warning("webhook.unserved_phone_number", extra={"phone_number_ids": unserved})
        if body.get("object") != OBJECT_WHATSAPP or summary.unrecognised:
            log.info(
                "webhook.unrecognised",
                extra={"object": body.get("object"), "unrecognised": summary.unrecognised[:20]},
            )
        organisations = {self.organisations.get(p) for p in summary.phone_number_ids}
        organisation_id = organisations.pop() if len(organisations) == 1 else None

        message = SqsWebhookMessage.wrap(
            raw,
            correlation_id=cid,
            received_at=received_at,
            phone_number_ids=summary.phone_number_ids,
            organisation_id=organisation_id,
        )
        encoded = message.encode()
        parts = 1
        try:
            if fits(encoded, self.max_message_bytes):
                await self.publisher.publish(encoded)
            else:
                try:
                    bodies = self._split(body, message)
                except WebhookParseError as exc:
                    return await self._dead_letter(
                        raw, cid, received_at, f"too large and not splittable: {exc}"
                    )
                parts = len(bodies)
                await _publish_all(self.publisher, bodies)
                metrics.SPLIT_PARTS.inc(parts)
        except TooLarge as exc:
            _OUTCOMES["too_large"].inc()
            log.error("webhook.event_too_large", extra={"error": str(exc), "bytes": len(raw)})
            return Response(status_code=413)
        except PublishError as exc:
            _OUTCOMES["unavailable"].inc()
            log.warning("webhook.enqueue_failed", extra={"error": str(exc), "parts": parts})
            return Response(status_code=503)

        _OUTCOMES["accepted"].inc()
        _count_events(summary)
        log.info(
            "webhook.accepted",
            extra={
                "phone_number_ids": summary.phone_number_ids,
                "organisation_id": organisation_id,
                "messages": summary.messages,
                "statuses": summary.statuses,
                "changes": summary.changes,
                "bytes": len(raw),
                "parts": parts,
            },
        )
        return Response(status_code=200)

    def _refuse(self, result: SignatureResult, size: int, *, reason: str | None = None) -> Response:
        reason = reason or result.value
        metrics.SIGNATURE_FAILURES.labels(reason=reason).inc()
        log.warning("webhook.signature_refused", extra={"reason": reason, "bytes": size})
        if result is SignatureResult.MISSING:
            _OUTCOMES["signature_missing"].inc()
            return Response(status_code=401)
        _OUTCOMES["signature_invalid"].inc()
        return Response(status_code=403)

    async def _dead_letter(
        self, raw: bytes, cid: str, received_at: datetime, reason: str
    ) -> Response:
        """A signed body we cannot use: keep it, with the reason, where a human can look."""
        room = max_raw_bytes(self.max_message_bytes)
        if len(raw) > room:
            reason += f" (body of {len(raw)} bytes truncated to fit the queue)"
        body = SqsWebhookMessage.wrap(
            raw[:room], correlation_id=cid, received_at=received_at, dead_letter_reason=reason
        ).encode()
        try:
            await self.publisher.publish(body, dead_letter=True)
        except PublishError as exc:
            _OUTCOMES["unavailable"].inc()
            log.warning("webhook.dead_letter_failed", extra={"error": str(exc)})
            return Response(status_code=503)
        _OUTCOMES["dead_lettered"].inc()
        log.warning("webhook.dead_lettered", extra={"reason": reason, "bytes": len(raw)})
        return Response(status_code=200)

    def _split(self, body: dict[str, Any], whole: SqsWebhookMessage) -> list[str]:
        """Split an oversized webhook into SQS messages of whole events, packed greedily.

        The bytes of each part are our re-serialisation of some of the webhook's events, not
        Meta's bytes: Meta's signature covers only the whole body. Each part keeps
        ``signature_verified`` because the whole was verified here before it was split.
        """
        events = split_events(body)
        budget = max_raw_bytes(self.max_message_bytes, overhead=4_096)
        groups: list[list[WebhookEvent]] = []
        current: list[WebhookEvent] = []
        current_size = 0
        for event in events:
            size = _estimate(event)
            if current and current_size + size > budget:
                groups.append(current)
                current, current_size = [], 0
            current.append(event)
            current_size += size
        if current:
            groups.append(current)
        raws = [raw for group in groups for raw in self._encode_group(group)]
        return [
            whole.model_copy(
                update={
                    "raw_body_b64": _b64(raw),
                    "part": index,
                    "parts": len(raws),
                }
            ).encode()
            for index, raw in enumerate(raws, start=1)
        ]

    def _encode_group(self, group: Sequence[WebhookEvent]) -> list[bytes]:
        raw = json.dumps(build_envelope(group), ensure_ascii=False, separators=(",", ":")).encode()
        if len(raw) <= max_raw_bytes(self.max_message_bytes):
            return [raw]
        if len(group) == 1:
            raise TooLarge(f"one {group[0].kind.value} event is {len(raw)} bytes")
        half = len(group) // 2
        return self._encode_group(group[:half]) + self._encode_group(group[half:])


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _estimate(event: WebhookEvent) -> int:
    size = len(json.dumps(event.raw, ensure_ascii=False).encode())
    if event.raw_contact is not None:
        size += len(json.dumps(event.raw_contact, ensure_ascii=False).encode())
    return size + 64


async def _publish_all(publisher: Publisher, bodies: Sequence[str]) -> None:
    results = await asyncio.gather(*(publisher.publish(b) for b in bodies), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        # Parts already in SQS stay there; Meta's redelivery repeats them and the worker's
        # dedup on wamid makes the repeat harmless.
        raise PublishError(f"{len(errors)} of {len(bodies)} parts not enqueued: {errors[0]}")


def _count_events(summary: WebhookSummary) -> None:
    if summary.messages:
        metrics.WEBHOOK_EVENTS.labels(kind="message").inc(summary.messages)
    if summary.statuses:
        metrics.WEBHOOK_EVENTS.labels(kind="status").inc(summary.statuses)
    if summary.changes:
        metrics.WEBHOOK_EVENTS.labels(kind="change").inc(summary.changes)


async def _read_body(request: Request) -> bytes | None:
    """The body, or ``None`` when it is bigger than :data:`MAX_BODY_BYTES`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_router(handler: WebhookHandler) -> APIRouter:
    router = APIRouter()

    @router.get("/webhook", response_class=PlainTextResponse)
    async def verify(
        mode: str | None = Query(default=None, alias="hub.mode"),
        token: str | None = Query(default=None, alias="hub.verify_token"),
        challenge: str | None = Query(default=None, alias="hub.challenge"),
    ) -> Response:
        return handler.handshake(mode, token, challenge)

    # A plain Starlette route: the handler takes the raw request and nothing else, so FastAPI's
    # dependency solving and validation would only add cost to the hottest path.
    router.add_route("/webhook", handler.receive, methods=["POST"], include_in_schema=False)
    return router
