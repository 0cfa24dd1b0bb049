"""The WhatsApp sandbox: a fake Graph API that speaks Meta's JSON.

The real Graph client is pointed at it (by base URL, or in-process through
``httpx.ASGITransport``), so what the tests exercise is the code that runs in production. The
sandbox records every send (``GET /sandbox/sent``) and can be scripted to fail the next sends in
every way the protocol doc lists (``POST /sandbox/script``). See ``README.md`` beside this file.

It imports no database code: it is a stand-in for Meta, not part of Funnel's data plane. It is
plain Starlette (with pydantic for the control payloads), the same stack as the fake Gemini
server, so ``funnel-core[local]`` needs nothing more to run it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from funnel.core.sandbox.state import (
    LimitsConfig,
    MediaSeed,
    PhoneNumberSeed,
    SandboxLimits,
    SandboxState,
    ScriptRule,
    TemplateSeed,
)
from funnel.core.sandbox.webhooks import StatusNotifier, WebhookConfig
from funnel.core.telemetry import get_logger
from funnel.core.whatsapp.errors import ERROR_TITLES

log = get_logger(__name__)

_VERSION = re.compile(r"^v\d{2}\.\d$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_CATEGORIES = frozenset({"MARKETING", "UTILITY", "AUTHENTICATION"})
_MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
_SEND_TYPES = frozenset({"text", "interactive", "template", "reaction", "location", "contacts"})
_TEXT_MAX = 4096


def http_status_for(code: int) -> int:
    """The HTTP status Meta pairs with an error code (protocol doc §1.8)."""
    if code in (190, 0):
        return 401
    if code in (3, 10) or 200 <= code <= 299:
        return 403
    if code in (4, 80007, 130429):
        return 429
    if code in (1, 131000):
        return 500
    if code in (2, 131016, 131057):
        return 503
    return 400


def graph_error(
    code: int,
    message: str | None = None,
    *,
    subcode: int | None = None,
    details: str | None = None,
    http_status: int | None = None,
) -> JSONResponse:
    title = ERROR_TITLES.get(code, "Error")
    error: dict[str, Any] = {
        "message": f"(#{code}) {message or title}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or message or title},
        "error_user_title": title,
        "error_user_msg": message or title,
        "fbtrace_id": "A" + base64.b64encode(binascii.b2a_hex(code.to_bytes(4, "big"))).decode(),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=http_status or http_status_for(code))


_HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>Error</title></head><body>"
    "<h1>Sorry, something went wrong.</h1><p>We're working on it.</p></body></html>"
)


_M = TypeVar("_M", bound=BaseModel)
_SCRIPT: TypeAdapter[list[ScriptRule]] = TypeAdapter(list[ScriptRule])
Handler = Callable[[Request], Awaitable[Response]]


async def _parse(request: Request, model: type[_M]) -> _M | JSONResponse:
    """A control endpoint's JSON body as ``model``, or a 422 listing the validation errors."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        return JSONResponse({"detail": json.loads(exc.json(include_url=False))}, status_code=422)


def _int(value: str | None, default: int, *, low: int, high: int) -> int:
    try:
        return min(max(int(value), low), high) if value is not None else default
    except ValueError:
        return default


class _Invalid(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def create_sandbox_app(
    state: SandboxState | None = None,
    *,
    tokens: dict[str, str] | None = None,
    webhook: WebhookConfig | None = None,
) -> Starlette:
    """A fresh sandbox.

    ``tokens`` maps phone number ids to the only token accepted for each; ``webhook`` turns on
    status webhooks (see :mod:`funnel.core.sandbox.webhooks`).
    """
    sandbox = state or SandboxState()
    for phone_number_id, token in (tokens or {}).items():
        sandbox.phone_numbers[phone_number_id] = PhoneNumberSeed(
            phone_number_id=phone_number_id, token=token
        )
    if webhook is not None:
        sandbox.webhook = webhook
    notifier = StatusNotifier()

    routes: list[Route] = []

    def route(path: str, method: str, name: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            routes.append(Route(path, handler, methods=[method], name=name or handler.__name__))
            return handler

        return register

    def check_auth(request: Request, phone_number_id: str | None) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return graph_error(190, "An access token is required to request this resource.")
        registered = sandbox.phone_numbers.get(phone_number_id or "")
        if registered is not None and registered.token and token.strip() != registered.token:
            return graph_error(
                190,
                "Error validating access token: The session is invalid.",
                subcode=463,
            )
        return None

    def check_version(version: str) -> JSONResponse | None:
        if _VERSION.match(version):
            return None
        return graph_error(100, f"Unknown path components: /{version}")

    # ------------------------------------------------------------ sandbox control

    @route("/sandbox/sent", "GET")
    async def list_sent(request: Request) -> Response:
        """Recorded sends, newest last. ``since`` returns only those with a larger ``seq``."""
        to = request.query_params.get("to")
        phone_number_id = request.query_params.get("phone_number_id")
        since = _int(request.query_params.get("since"), 0, low=0, high=2**62)
        records = [
            r.as_json()
            for r in sandbox.sent
            if r.seq > since
            and (to is None or (r.to or "").lstrip("+") == to.lstrip("+"))
            and (phone_number_id is None or r.phone_number_id == phone_number_id)
        ]
        return JSONResponse(records)

    @route("/sandbox/sent", "DELETE")
    async def clear_sent(request: Request) -> Response:
        sandbox.sent.clear()
        return JSONResponse({"success": True})

    @route("/sandbox/script", "POST")
    async def add_script(request: Request) -> Response:
        try:
            rules = _SCRIPT.validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse(
                {"detail": json.loads(exc.json(include_url=False))}, status_code=422
            )
        sandbox.script.extend(rules)
        return JSONResponse({"queued": len(rules), "pending": len(sandbox.script)})

    @route("/sandbox/script", "GET")
    async def get_script(request: Request) -> Response:
        return JSONResponse([rule.model_dump() for rule in sandbox.script])

    @route("/sandbox/script", "DELETE")
    async def clear_script(request: Request) -> Response:
        sandbox.script.clear()
        return JSONResponse({"success": True})

    @route("/sandbox/media", "POST")
    async def seed_media(request: Request) -> Response:
        seed = await _parse(request, MediaSeed)
        if isinstance(seed, JSONResponse):
            return seed
        try:
            content = base64.b64decode(seed.content_b64, validate=True)
        except binascii.Error:
            return JSONResponse({"detail": "content_b64 is not base64"}, 422)
        blob = sandbox.add_media(
            content,
            seed.mime_type,
            media_id=seed.media_id,
            phone_number_id=seed.phone_number_id,
            expire_once=seed.expire_once,
        )
        return JSONResponse({"id": blob.id, "sha256": blob.sha256})

    @route("/sandbox/media/{media_id}/content", "GET")
    async def media_content(request: Request) -> Response:
        media_id = request.path_params["media_id"]
        blob = sandbox.media.get(media_id)
        denied = check_auth(request, blob.phone_number_id if blob else None)
        if denied is not None:
            return denied
        if blob is None:
            return HTMLResponse("<html><body>Not Found</body></html>", status_code=404)
        if blob.expire_once:
            # Like an expired lookaside URL: the page is gone; asking for the URL again helps.
            blob.expire_once = False
            return HTMLResponse("<html><body>URL signature expired</body></html>", 404)
        return Response(blob.content, media_type=blob.mime_type)

    @route("/sandbox/phone-numbers", "POST")
    async def seed_phone_number(request: Request) -> Response:
        seed = await _parse(request, PhoneNumberSeed)
        if isinstance(seed, JSONResponse):
            return seed
        sandbox.phone_numbers[seed.phone_number_id] = seed
        return JSONResponse({"success": True})

    @route("/sandbox/templates", "POST")
    async def seed_template(request: Request) -> Response:
        seed = await _parse(request, TemplateSeed)
        if isinstance(seed, JSONResponse):
            return seed
        template = _template_json(
            sandbox.new_id(),
            seed.name,
            seed.language,
            seed.category,
            seed.status,
            seed.components,
            seed.parameter_format,
        )
        sandbox.templates.setdefault(seed.waba_id, []).append(template)
        return JSONResponse({"id": template["id"], "status": seed.status})

    @route("/sandbox/webhook", "POST")
    async def set_webhook(request: Request) -> Response:
        config = await _parse(request, WebhookConfig)
        if isinstance(config, JSONResponse):
            return config
        sandbox.webhook = config
        return JSONResponse({"success": True})

    @route("/sandbox/webhook", "GET")
    async def get_webhook(request: Request) -> Response:
        if sandbox.webhook is None:
            return JSONResponse({"enabled": False})
        return JSONResponse(
            {
                "enabled": True,
                **sandbox.webhook.model_dump(exclude={"app_secret"}),
                "delivered": notifier.delivered,
                "failed": notifier.failed,
            }
        )

    @route("/sandbox/webhook", "DELETE")
    async def clear_webhook(request: Request) -> Response:
        sandbox.webhook = None
        return JSONResponse({"success": True})

    @route("/sandbox/limits", "POST")
    async def set_limits(request: Request) -> Response:
        config = await _parse(request, LimitsConfig)
        if isinstance(config, JSONResponse):
            return config
        sandbox.limits = SandboxLimits(config)
        return JSONResponse({"success": True})

    @route("/sandbox/limits", "GET")
    async def get_limits(request: Request) -> Response:
        if sandbox.limits is None:
            return JSONResponse({"enabled": False})
        return JSONResponse({"enabled": True, **sandbox.limits.config.model_dump()})

    @route("/sandbox/limits", "DELETE")
    async def clear_limits(request: Request) -> Response:
        sandbox.limits = None
        return JSONResponse({"success": True})

    @route("/sandbox/reset", "POST")
    async def reset(request: Request) -> Response:
        sandbox.reset()
        return JSONResponse({"success": True})

    # ------------------------------------------------------------ Graph: messages

    @route("/{version}/{phone_number_id}/messages", "POST")
    async def send_message(request: Request) -> Response:
        version, phone_number_id = _path(request, "version", "phone_number_id")
        if (bad := check_version(version) or check_auth(request, phone_number_id)) is not None:
            return bad
        try:
            body = json.loads(await request.body())
        except ValueError:
            return graph_error(100, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return graph_error(100, "The request body must be a JSON object.")
        correlation = request.headers.get("x-correlation-id")
        callback = body.get("biz_opaque_callback_data")

        if body.get("status") == "read":
            if body.get("messaging_product") != "whatsapp" or not body.get("message_id"):
                return graph_error(131008, "message_id is required.")
            sandbox.record(
                phone_number_id=phone_number_id,
                kind="read",
                to=None,
                type=None,
                body=body,
                status="accepted",
                http_status=200,
                wamid=None,
                error_code=None,
                biz_opaque_callback_data=None,
                correlation_id=correlation,
            )
            return JSONResponse({"success": True})

        to = body.get("to") or body.get("recipient")
        recipient = str(to) if to is not None else None
        rule = sandbox.take_rule(phone_number_id, recipient)
        scripted_failure = rule is not None and (
            rule.error_code is not None or rule.html_status is not None
        )
        try:
            _validate_send(body)
            if body.get("type") == "template":
                _check_template(sandbox, body)
        except _Invalid as exc:
            # A scripted failure still wins: the test asked for exactly that answer.
            if not scripted_failure:
                _record_error(
                    sandbox, phone_number_id, body, recipient, exc.code, correlation, callback
                )
                return graph_error(exc.code, exc.message)

        wa_id = (recipient or "").lstrip("+")
        if rule is not None and scripted_failure:
            code = rule.error_code
            status = rule.html_status or rule.http_status or http_status_for(code or 0)
            sandbox.record(
                phone_number_id=phone_number_id,
                kind="message",
                to=recipient,
                type=body.get("type"),
                body=body,
                status="error",
                http_status=status,
                wamid=None,
                error_code=code,
                biz_opaque_callback_data=callback,
                correlation_id=correlation,
            )
            if rule.delay_s:
                await asyncio.sleep(rule.delay_s)
            if code is None:
                return HTMLResponse(_HTML_ERROR, status_code=status)
            return graph_error(
                code,
                rule.error_message,
                subcode=rule.error_subcode,
                details=rule.error_details,
                http_status=status,
            )

        limited = sandbox.limits.check(phone_number_id, wa_id) if sandbox.limits else None
        if limited is not None:
            _record_error(sandbox, phone_number_id, body, recipient, limited, correlation, callback)
            return graph_error(limited)

        wamid = sandbox.new_wamid(wa_id)
        sandbox.record(
            phone_number_id=phone_number_id,
            kind="message",
            to=recipient,
            type=body.get("type"),
            body=body,
            status="accepted",
            http_status=200,
            wamid=wamid,
            error_code=None,
            biz_opaque_callback_data=callback,
            correlation_id=correlation,
        )
        log.info(
            "sandbox.sent",
            extra={"phone_number_id": phone_number_id, "type": body.get("type"), "wamid": wamid},
        )
        if sandbox.webhook is not None:
            notifier.schedule(
                sandbox.webhook,
                phone_number_id=phone_number_id,
                wamid=wamid,
                recipient=wa_id,
                callback_data=callback if isinstance(callback, str) else None,
                error_code=rule.async_error_code if rule is not None else None,
            )
        if rule is not None and rule.delay_s:
            await asyncio.sleep(rule.delay_s)
        contact: dict[str, str] = {"input": recipient or ""}
        if "to" in body:
            contact["wa_id"] = wa_id
        else:
            contact["user_id"] = recipient or ""
        message: dict[str, str] = {"id": wamid}
        if body.get("type") == "template":
            message["message_status"] = "accepted"
        return JSONResponse(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}
        )

    # ------------------------------------------------------------ Graph: media

    @route("/{version}/{phone_number_id}/media", "POST")
    async def upload_media(request: Request) -> Response:
        version, phone_number_id = _path(request, "version", "phone_number_id")
        if (bad := check_version(version) or check_auth(request, phone_number_id)) is not None:
            return bad
        fields, files = _parse_form(request.headers.get("content-type", ""), await request.body())
        if fields.get("messaging_product") != "whatsapp":
            return graph_error(100, "messaging_product must be whatsapp.")
        if "file" not in files:
            return graph_error(131008, "file is required.")
        content, part_type = files["file"]
        blob = sandbox.add_media(
            content, fields.get("type") or part_type, phone_number_id=phone_number_id
        )
        return JSONResponse({"id": blob.id})

    # ------------------------------------------------------------ Graph: templates

    @route("/{version}/{waba_id}/message_templates", "GET")
    async def list_templates(request: Request) -> Response:
        version, waba_id = _path(request, "version", "waba_id")
        query = request.query_params
        limit = _int(query.get("limit"), 25, low=1, high=1000)
        after, summary, status = query.get("after"), query.get("summary"), query.get("status")
        category, language, name = query.get("category"), query.get("language"), query.get("name")
        if (bad := check_version(version) or check_auth(request, None)) is not None:
            return bad
        items = [
            t
            for t in sandbox.templates.get(waba_id, [])
            if (status is None or t["status"] == status.upper())
            and (category is None or t["category"] == category.upper())
            and (language is None or t["language"] == language)
            and (name is None or name in t["name"])
        ]
        start = _decode_cursor(after)
        page = items[start : start + limit]
        payload: dict[str, Any] = {
            "data": page,
            "paging": {
                "cursors": {"before": _encode_cursor(start), "after": _encode_cursor(start + limit)}
            },
        }
        if start + limit < len(items):
            payload["paging"]["next"] = str(
                request.url.include_query_params(after=_encode_cursor(start + limit))
            )
        if summary is not None:
            count = len(sandbox.templates.get(waba_id, []))
            payload["summary"] = {
                "total_count": len(items),
                "message_template_count": count,
                "message_template_limit": 250,
                "are_translations_complete": True,
            }
        return JSONResponse(payload)

    @route("/{version}/{waba_id}/message_templates", "POST")
    async def create_template(request: Request) -> Response:
        version, waba_id = _path(request, "version", "waba_id")
        if (bad := check_version(version) or check_auth(request, None)) is not None:
            return bad
        try:
            body = json.loads(await request.body())
        except ValueError:
            return graph_error(100, "The request body is not valid JSON.")
        name, language = body.get("name"), body.get("language")
        category = str(body.get("category") or "").upper()
        if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
            return graph_error(100, "name must be lowercase letters, digits and underscores.")
        if not isinstance(language, str) or not language:
            return graph_error(100, "language is required.")
        if category not in _CATEGORIES:
            return graph_error(100, "category must be MARKETING, UTILITY or AUTHENTICATION.")
        components = body.get("components")
        if not isinstance(components, list) or not any(
            str(c.get("type", "")).upper() == "BODY" for c in components if isinstance(c, dict)
        ):
            return graph_error(100, "components must include a BODY.")
        if sandbox.find_template(name, language) is not None:
            return graph_error(
                100,
                "Content in this language already exists.",
                subcode=2388024,
            )
        template = _template_json(
            sandbox.new_id(),
            name,
            language,
            category,
            "PENDING",
            components,
            str(body.get("parameter_format") or "POSITIONAL"),
        )
        sandbox.templates.setdefault(waba_id, []).append(template)
        return JSONResponse({"id": template["id"], "status": "PENDING", "category": category})

    @route("/{version}/{waba_id}/message_templates", "DELETE")
    async def delete_template(request: Request) -> Response:
        version, waba_id = _path(request, "version", "waba_id")
        if (bad := check_version(version) or check_auth(request, None)) is not None:
            return bad
        name, hsm_id = request.query_params.get("name"), request.query_params.get("hsm_id")
        if not name:
            return graph_error(100, "The parameter name is required.")
        templates = sandbox.templates.get(waba_id, [])
        keep = [
            t
            for t in templates
            if not (t["name"] == name and (hsm_id is None or t["id"] == hsm_id))
        ]
        if len(keep) == len(templates):
            return graph_error(100, f"Message template {name!r} not found.", subcode=2593002)
        sandbox.templates[waba_id] = keep
        return JSONResponse({"success": True})

    @route("/{version}/{template_id}", "POST")
    async def edit_template(request: Request) -> Response:
        version, template_id = _path(request, "version", "template_id")
        if (bad := check_version(version) or check_auth(request, None)) is not None:
            return bad
        try:
            body = json.loads(await request.body())
        except ValueError:
            return graph_error(100, "The request body is not valid JSON.")
        template = next(
            (t for ts in sandbox.templates.values() for t in ts if t["id"] == template_id), None
        )
        if template is None:
            return graph_error(100, f"Message template {template_id} not found.", subcode=33)
        if template["status"] not in ("REJECTED", "PAUSED", "APPROVED"):
            return graph_error(100, "This template cannot be edited in its current status.")
        components = body.get("components")
        if components is not None:
            if not isinstance(components, list):
                return graph_error(100, "components must be a list.")
            template["components"] = components
        if body.get("category"):
            category = str(body["category"]).upper()
            if category not in _CATEGORIES:
                return graph_error(100, "category must be MARKETING, UTILITY or AUTHENTICATION.")
            template["category"] = category
        template["status"] = "PENDING"
        return JSONResponse({"success": True})

    # ------------------------------------------------------------ Graph: nodes

    @route("/{version}/{node_id}", "GET")
    async def get_node(request: Request) -> Response:
        version, node_id = _path(request, "version", "node_id")
        if (bad := check_version(version)) is not None:
            return bad
        blob = sandbox.media.get(node_id)
        if blob is not None:
            if (denied := check_auth(request, blob.phone_number_id)) is not None:
                return denied
            url = request.url_for("media_content", media_id=blob.id)
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": str(url),
                    "mime_type": blob.mime_type,
                    "sha256": blob.sha256,
                    "file_size": str(len(blob.content)),
                    "id": blob.id,
                }
            )
        if (denied := check_auth(request, node_id)) is not None:
            return denied
        if not node_id.isdigit():
            return graph_error(100, f"Unsupported get request. Object with ID '{node_id}'.")
        number = sandbox.phone_numbers.get(node_id) or PhoneNumberSeed(phone_number_id=node_id)
        return JSONResponse(
            {
                "id": node_id,
                "display_phone_number": number.display_phone_number,
                "verified_name": number.verified_name,
                "quality_rating": number.quality_rating,
                "whatsapp_business_manager_messaging_limit": number.messaging_limit,
                "code_verification_status": "VERIFIED",
                "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"},
            }
        )

    @route("/{version}/{media_id}", "DELETE")
    async def delete_media(request: Request) -> Response:
        version, media_id = _path(request, "version", "media_id")
        if (bad := check_version(version)) is not None:
            return bad
        blob = sandbox.media.get(media_id)
        if (denied := check_auth(request, blob.phone_number_id if blob else None)) is not None:
            return denied
        if blob is None:
            return graph_error(100, f"Media {media_id} not found.", subcode=33)
        del sandbox.media[media_id]
        return JSONResponse({"success": True})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await notifier.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    app.state.notifier = notifier
    return app


def _path(request: Request, *names: str) -> tuple[str, ...]:
    return tuple(str(request.path_params[name]) for name in names)


# ---------------------------------------------------------------- helpers


def _record_error(
    sandbox: SandboxState,
    phone_number_id: str,
    body: dict[str, Any],
    recipient: str | None,
    code: int,
    correlation: str | None,
    callback: Any,
) -> None:
    sandbox.record(
        phone_number_id=phone_number_id,
        kind="message",
        to=recipient,
        type=body.get("type"),
        body=body,
        status="error",
        http_status=http_status_for(code),
        wamid=None,
        error_code=code,
        biz_opaque_callback_data=callback,
        correlation_id=correlation,
    )


def _validate_send(body: dict[str, Any]) -> None:
    """The checks Meta makes synchronously that a client bug would trip."""
    if body.get("messaging_product") != "whatsapp":
        raise _Invalid(100, "messaging_product must be whatsapp.")
    if not body.get("to") and not body.get("recipient"):
        raise _Invalid(131008, "The parameter to is required.")
    type_ = body.get("type", "text")
    if type_ not in _SEND_TYPES | _MEDIA_TYPES:
        raise _Invalid(131051, f"Unsupported message type {type_!r}.")
    obj = body.get(type_)
    if not isinstance(obj, dict):
        raise _Invalid(131008, f"The parameter {type_} is required.")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
        raise _Invalid(100, "biz_opaque_callback_data must be a string of at most 512 characters.")
    if type_ == "text":
        text = obj.get("body")
        if not isinstance(text, str) or not text:
            raise _Invalid(131008, "The parameter text.body is required.")
        if len(text) > _TEXT_MAX:
            raise _Invalid(100, "text.body is longer than 4096 characters.")
    elif type_ in _MEDIA_TYPES:
        if ("id" in obj) == ("link" in obj):
            raise _Invalid(131009, f"{type_} needs exactly one of id or link.")
    elif type_ == "interactive":
        if obj.get("type") not in ("button", "list", "cta_url", "product", "product_list", "flow"):
            raise _Invalid(131009, "interactive.type is not valid.")
        if not isinstance(obj.get("action"), dict):
            raise _Invalid(131008, "interactive.action is required.")
    elif type_ == "template":
        language = obj.get("language")
        if not obj.get("name") or not isinstance(language, dict) or not language.get("code"):
            raise _Invalid(131008, "template.name and template.language.code are required.")
        for component in obj.get("components") or []:
            # pywa sends "BODY", Meta's examples "body": both are accepted.
            if str(component.get("type", "")).lower() not in ("header", "body", "button"):
                raise _Invalid(131009, "template component type is not valid.")
    elif type_ == "reaction" and not obj.get("message_id"):
        raise _Invalid(131008, "reaction.message_id is required.")


def _check_template(sandbox: SandboxState, body: dict[str, Any]) -> None:
    """Templates the sandbox knows must be sendable; unknown ones are accepted as they are."""
    template = body["template"]
    known = sandbox.find_template(template["name"], template["language"]["code"])
    if known is None or known["status"] == "APPROVED":
        return
    if known["status"] == "PAUSED":
        raise _Invalid(132015, "Template is paused.")
    if known["status"] == "DISABLED":
        raise _Invalid(132016, "Template is disabled.")
    raise _Invalid(132001, f"Template is {known['status']}, not APPROVED.")


def _template_json(
    template_id: str,
    name: str,
    language: str,
    category: str,
    status: str,
    components: list[dict[str, Any]],
    parameter_format: str,
) -> dict[str, Any]:
    return {
        "id": template_id,
        "name": name,
        "language": language,
        "category": category.upper(),
        "status": status.upper(),
        "components": components,
        "parameter_format": parameter_format,
    }


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)[1]))
    except (ValueError, IndexError, binascii.Error):
        return 0


def _parse_form(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[bytes, str]]]:
    """Fields and files of a form body (multipart or urlencoded), with the standard library.

    Enough for the Graph upload endpoint, and it spares the sandbox a multipart dependency.
    """
    fields: dict[str, str] = {}
    files: dict[str, tuple[bytes, str]] = {}
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8", errors="replace"))), files
    if not content_type.lower().startswith("multipart/form-data"):
        return fields, files
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = (data, part.get_content_type())
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files
