"""The WhatsApp Graph API client: our interface, and its httpx implementation.

:class:`GraphClient` is the small interface the rest of Funnel codes against (the sender, media
download, template sync, the settings "connect" check). :class:`HttpGraphClient` implements it
with plain httpx calls.

Why not pywa, which the protocol doc suggests wrapping? pywa 4.5.0's async client was checked
against what we need and falls short on the two points that matter most here:

* it cannot be pointed at another host: ``GraphAPI.__init__`` overwrites the given
  ``httpx.AsyncClient``'s ``base_url`` with ``https://graph.facebook.com/v{version}``, so the
  sandbox is reachable only through a host-rewriting transport;
* it writes the channel's token into the shared client's default headers and refuses a client
  that already has one, so a multi-tenant sender would need one connection pool per channel, and
  every request object carries the token as a default header.

It does expose ``biz_opaque_callback_data`` (as ``tracker``) and has an exception class per
code, but our retry policy has to be our own table anyway (:mod:`funnel.core.whatsapp.errors`),
and the send bodies are a dozen small JSON shapes (:mod:`funnel.core.whatsapp.graph_models`).
A thin client over a caller-supplied ``httpx.AsyncClient`` is less code than adapting pywa, and
tests point it at the sandbox with ``httpx.ASGITransport`` or a loopback base URL.

One ``httpx.AsyncClient`` serves every channel: the token is passed per request, never stored
on the shared client, and never logged or put in an exception message.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from funnel.core.settings import WhatsAppSettings
from funnel.core.telemetry import correlation_id, get_logger
from funnel.core.telemetry.context import CORRELATION_HEADER
from funnel.core.telemetry.metrics import Counter, Histogram
from funnel.core.whatsapp.errors import (
    NOT_SENT_TRANSIENT,
    GraphError,
    GraphMediaIntegrityError,
    GraphTimeoutError,
    GraphTransportError,
    GraphValidationError,
    classify,
    error_from_response,
)
from funnel.core.whatsapp.graph_models import (
    CreatedTemplate,
    DownloadedMedia,
    Header,
    ListSection,
    MediaInfo,
    MediaKind,
    MediaRef,
    MessageTemplate,
    PhoneNumberInfo,
    ReplyButton,
    SendResult,
    TemplateComponent,
    TemplatePage,
    TemplateSummary,
    TypingIndicator,
    build_buttons,
    build_cta_url,
    build_list,
    build_mark_read,
    build_media,
    build_reaction,
    build_template,
    build_text,
    validate_callback_data,
)

log = get_logger(__name__)

GRAPH_REQUESTS = Counter(
    "funnel_whatsapp_graph_requests_total",
    "Graph API calls by operation and outcome (ok, or the error kind).",
    ["operation", "outcome"],
)
GRAPH_LATENCY = Histogram(
    "funnel_whatsapp_graph_request_seconds",
    "Graph API call latency by operation.",
    ["operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

USER_AGENT = "funnel-graph-client/0.1"
TEMPLATE_FIELDS = (
    "id,name,language,category,status,components,parameter_format,rejected_reason,quality_score"
)
TEMPLATE_SUMMARY = (
    "total_count,message_template_count,message_template_limit,are_translations_complete"
)
PHONE_NUMBER_FIELDS = (
    "id,display_phone_number,verified_name,quality_rating,whatsapp_business_manager_messaging_limit"
)


@runtime_checkable
class GraphClient(Protocol):
    """One WhatsApp channel's view of the Graph API.

    Every send takes ``callback_data`` (the outbox id): Meta echoes it as
    ``biz_opaque_callback_data`` in the status webhooks, which is how a send whose response was
    lost is reconciled instead of resent.
    """

    phone_number_id: str

    async def send_prepared(self, body: Mapping[str, Any]) -> SendResult: ...

    async def send_text(
        self,
        to: str,
        text: str,
        *,
        callback_data: str,
        preview_url: bool = False,
        reply_to: str | None = None,
    ) -> SendResult: ...

    async def send_buttons(
        self,
        to: str,
        text: str,
        buttons: Sequence[ReplyButton],
        *,
        callback_data: str,
        header: Header | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult: ...

    async def send_list(
        self,
        to: str,
        text: str,
        button: str,
        sections: Sequence[ListSection],
        *,
        callback_data: str,
        header: Header | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult: ...

    async def send_cta_url(
        self,
        to: str,
        text: str,
        display_text: str,
        url: str,
        *,
        callback_data: str,
        header: Header | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult: ...

    async def send_template(
        self,
        to: str,
        name: str,
        language: str,
        components: Sequence[TemplateComponent] = (),
        *,
        callback_data: str,
        reply_to: str | None = None,
    ) -> SendResult: ...

    async def send_media(
        self,
        to: str,
        kind: MediaKind,
        media: MediaRef,
        *,
        callback_data: str,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult: ...

    async def send_reaction(
        self, to: str, message_id: str, emoji: str, *, callback_data: str
    ) -> SendResult: ...

    async def mark_read(
        self, message_id: str, *, typing_indicator: TypingIndicator | None = None
    ) -> None: ...

    async def upload_media(self, content: bytes, mime_type: str, filename: str) -> str: ...

    async def get_media(self, media_id: str) -> MediaInfo: ...

    async def download_media(self, media_id: str) -> DownloadedMedia: ...

    async def list_templates(
        self, *, limit: int = 100, after: str | None = None, **filters: str
    ) -> TemplatePage: ...

    async def create_template(
        self,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        *,
        parameter_format: str | None = None,
    ) -> CreatedTemplate: ...

    async def edit_template(
        self,
        template_id: str,
        *,
        category: str | None = None,
        components: Sequence[Mapping[str, Any]] | None = None,
    ) -> None: ...

    async def delete_template(self, name: str, *, template_id: str | None = None) -> None: ...

    async def get_phone_number(self) -> PhoneNumberInfo: ...


class HttpGraphClient:
    """:class:`GraphClient` over a caller-owned ``httpx.AsyncClient``.

    The caller owns the ``httpx.AsyncClient`` (and closes it): one per process is right, shared
    by every channel. ``base_url`` and ``version`` come from :class:`WhatsAppSettings`; the
    sandbox is one ``base_url`` away.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: SecretStr | str,
        phone_number_id: str,
        waba_id: str | None = None,
        base_url: str = "https://graph.facebook.com",
        version: str = "v23.0",
        timeout_s: float = 15.0,
    ) -> None:
        self._http = http
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        version = version if version.startswith("v") else f"v{version}"
        self._root = f"{base_url.rstrip('/')}/{version}"
        self._timeout = httpx.Timeout(timeout_s)

    @classmethod
    def from_settings(
        cls,
        settings: WhatsAppSettings,
        http: httpx.AsyncClient,
        *,
        token: SecretStr | str,
        phone_number_id: str,
        waba_id: str | None = None,
    ) -> HttpGraphClient:
        return cls(
            http,
            token=token,
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            base_url=settings.graph_base_url,
            version=settings.graph_version,
            timeout_s=settings.request_timeout_s,
        )

    def __repr__(self) -> str:
        # Spelled out so the token can never appear in a repr, even a SecretStr's placeholder.
        return f"HttpGraphClient(phone_number_id={self.phone_number_id!r}, root={self._root!r})"

    # ------------------------------------------------------------ transport

    def _headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "User-Agent": USER_AGENT,
        }
        # Meta ignores it; the sandbox records it, so a test or `funnel dev` user can follow one
        # customer message from the webhook to the reply it produced.
        cid = correlation_id()
        if cid is not None:
            headers[CORRELATION_HEADER] = cid
        return headers

    async def _call(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        send: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One HTTP exchange, with every failure turned into a :class:`GraphError`.

        ``send`` marks calls that deliver something to a user: for those a timeout after the
        request was written means "may have been sent"; a refused connection never does.
        """
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method, url, headers=self._headers(), timeout=self._timeout, **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            GRAPH_REQUESTS.labels(operation, "transient").inc()
            raise GraphTransportError(
                f"{operation}: could not connect to the Graph API ({type(exc).__name__})",
                policy=NOT_SENT_TRANSIENT,
            ) from None
        except httpx.TimeoutException as exc:
            GRAPH_REQUESTS.labels(operation, "timeout").inc()
            policy = classify(None)
            raise GraphTimeoutError(
                f"{operation}: Graph API timed out ({type(exc).__name__})"
                + ("; the message may have been sent" if send else ""),
                policy=policy,
            ) from None
        except httpx.TransportError as exc:
            GRAPH_REQUESTS.labels(operation, "transient").inc()
            raise GraphTransportError(
                f"{operation}: Graph API connection failed ({type(exc).__name__})",
                policy=classify(None),
            ) from None
        finally:
            GRAPH_LATENCY.labels(operation).observe(time.perf_counter() - started)
        if response.is_success:
            GRAPH_REQUESTS.labels(operation, "ok").inc()
            return response
        error = error_from_response(
            response.status_code, response.content, response.headers.get("content-type", "")
        )
        GRAPH_REQUESTS.labels(operation, error.kind.value).inc()
        log.warning(
            "whatsapp.graph.error",
            extra={
                "operation": operation,
                "phone_number_id": self.phone_number_id,
                "http_status": response.status_code,
                "code": error.code,
                "error_kind": error.kind.value,
                "retryable": error.retryable,
                "fbtrace_id": error.fbtrace_id,
            },
        )
        raise error

    @staticmethod
    def _json(operation: str, response: httpx.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise GraphTransportError(
                f"{operation}: a 2xx response that is not a JSON object",
                http_status=response.status_code,
            )
        return payload

    async def _send(self, kind: str, body: dict[str, Any]) -> SendResult:
        operation = f"send_{kind}"
        response = await self._call(
            operation, "POST", f"{self._root}/{self.phone_number_id}/messages", json=body, send=True
        )
        payload = self._json(operation, response)
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages or not messages[0].get("id"):
            # Accepted but unreadable: Meta may well deliver it, so this must not be retried
            # blindly either.
            raise GraphTransportError(
                f"{operation}: response has no messages[0].id",
                http_status=response.status_code,
                policy=classify(None),
            )
        contacts = payload.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts else {}
        result = SendResult(
            wamid=str(messages[0]["id"]),
            wa_id=contact.get("wa_id"),
            message_status=messages[0].get("message_status"),
            input=contact.get("input"),
        )
        log.debug(
            "whatsapp.graph.sent",
            extra={"phone_number_id": self.phone_number_id, "kind": kind, "wamid": result.wamid},
        )
        return result

    # ------------------------------------------------------------ sends

    async def send_prepared(self, body: Mapping[str, Any]) -> SendResult:
        """Send a body built earlier by a ``build_*`` function.

        The outbox stores the complete Graph request, built and validated when the decision was
        made, so a retry sends exactly the bytes that were decided. Only the envelope is checked
        again here: the body may have been stored by an older release.
        """
        if body.get("messaging_product") != "whatsapp" or not body.get("type"):
            raise GraphValidationError("a prepared send needs messaging_product and type")
        if not body.get("to") and not body.get("recipient"):
            raise GraphValidationError("a prepared send needs a recipient")
        callback = body.get("biz_opaque_callback_data")
        if callback is not None:
            validate_callback_data(str(callback))
        return await self._send(str(body["type"]), dict(body))

    async def send_text(
        self,
        to: str,
        text: str,
        *,
        callback_data: str,
        preview_url: bool = False,
        reply_to: str | None = None,
    ) -> SendResult:
        body = build_text(
            to, text, callback_data=callback_data, preview_url=preview_url, reply_to=reply_to
        )
        return await self._send("text", body)

    async def send_buttons(
        self,
        to: str,
        text: str,
        buttons: Sequence[ReplyButton],
        *,
        callback_data: str,
        header: Header | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult:
        body = build_buttons(
            to,
            text,
            buttons,
            callback_data=callback_data,
            header=header,
            footer=footer,
            reply_to=reply_to,
        )
        return await self._send("buttons", body)

    async def send_list(
        self,
        to: str,
        text: str,
        button: str,
        sections: Sequence[ListSection],
        *,
        callback_data: str,
        header: Header | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult:
        body = build_list(
            to,
            text,
            button,
            sections,
            callback_data=callback_data,
            header=header,
            footer=footer,
            reply_to=reply_to,
        )
        return await self._send("list", body)

    async def send_cta_url(
        self,
        to: str,
        text: str,
        display_text: str,
        url: str,
        *,
        callback_data: str,
        header: Header | None = None,
        footer: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult:
        body = build_cta_url(
            to,
            text,
            display_text,
            url,
            callback_data=callback_data,
            header=header,
            footer=footer,
            reply_to=reply_to,
        )
        return await self._send("cta_url", body)

    async def send_template(
        self,
        to: str,
        name: str,
        language: str,
        components: Sequence[TemplateComponent] = (),
        *,
        callback_data: str,
        reply_to: str | None = None,
    ) -> SendResult:
        body = build_template(
            to, name, language, components, callback_data=callback_data, reply_to=reply_to
        )
        return await self._send("template", body)

    async def send_media(
        self,
        to: str,
        kind: MediaKind,
        media: MediaRef,
        *,
        callback_data: str,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: str | None = None,
    ) -> SendResult:
        body = build_media(
            to,
            kind,
            media,
            callback_data=callback_data,
            caption=caption,
            filename=filename,
            reply_to=reply_to,
        )
        return await self._send("media", body)

    async def send_reaction(
        self, to: str, message_id: str, emoji: str, *, callback_data: str
    ) -> SendResult:
        body = build_reaction(to, message_id, emoji, callback_data=callback_data)
        return await self._send("reaction", body)

    async def mark_read(
        self, message_id: str, *, typing_indicator: TypingIndicator | None = None
    ) -> None:
        body = build_mark_read(message_id, typing_indicator=typing_indicator)
        response = await self._call(
            "mark_read", "POST", f"{self._root}/{self.phone_number_id}/messages", json=body
        )
        if self._json("mark_read", response).get("success") is not True:
            raise GraphTransportError("mark_read: response without success=true")

    # ------------------------------------------------------------ media

    async def upload_media(self, content: bytes, mime_type: str, filename: str) -> str:
        response = await self._call(
            "upload_media",
            "POST",
            f"{self._root}/{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        media_id = self._json("upload_media", response).get("id")
        if not media_id:
            raise GraphTransportError("upload_media: response without an id")
        return str(media_id)

    async def get_media(self, media_id: str) -> MediaInfo:
        response = await self._call(
            "get_media",
            "GET",
            f"{self._root}/{media_id}",
            params={"phone_number_id": self.phone_number_id},
        )
        payload = self._json("get_media", response)
        try:
            size = payload.get("file_size")
            return MediaInfo(
                id=str(payload.get("id") or media_id),
                url=str(payload["url"]),
                mime_type=str(payload.get("mime_type") or "application/octet-stream"),
                sha256=str(payload.get("sha256") or ""),
                # Meta sends it as a string ("303833"); tolerate either.
                file_size=int(size) if size is not None else None,
            )
        except (KeyError, ValueError) as exc:
            raise GraphTransportError(f"get_media: unexpected response ({exc})") from None

    async def download_media(self, media_id: str) -> DownloadedMedia:
        """Fetch media bytes and check them against the announced sha256.

        The URL from :meth:`get_media` lives about five minutes; when it has expired (Meta
        answers 404) the URL is requested once more and the download retried once.
        """
        info = await self.get_media(media_id)
        try:
            response = await self._call("download_media", "GET", info.url)
        except GraphError as exc:
            if exc.http_status not in (404, 410):
                raise
            info = await self.get_media(media_id)
            response = await self._call("download_media", "GET", info.url)
        content = response.content
        digest = hashlib.sha256(content).hexdigest()
        if info.sha256 and digest != info.sha256.lower():
            raise GraphMediaIntegrityError(
                f"media {media_id}: sha256 of the {len(content)} downloaded bytes does not match"
            )
        if info.file_size is not None and info.file_size != len(content):
            raise GraphMediaIntegrityError(
                f"media {media_id}: {len(content)} bytes downloaded, {info.file_size} announced"
            )
        return DownloadedMedia(content=content, mime_type=info.mime_type, sha256=digest)

    # ------------------------------------------------------------ templates

    def _waba(self) -> str:
        if not self.waba_id:
            raise GraphError("template management needs the channel's waba_id")
        return self.waba_id

    async def list_templates(
        self, *, limit: int = 100, after: str | None = None, **filters: str
    ) -> TemplatePage:
        """One page of the WABA's templates, with the ``summary`` Meta adds on request.

        ``filters`` are Graph's own: ``status``, ``category``, ``language``, ``name``.
        """
        params: dict[str, str | int] = {
            "fields": TEMPLATE_FIELDS,
            "summary": TEMPLATE_SUMMARY,
            "limit": limit,
            **filters,
        }
        if after:
            params["after"] = after
        response = await self._call(
            "list_templates", "GET", f"{self._root}/{self._waba()}/message_templates", params=params
        )
        payload = self._json("list_templates", response)
        templates = [
            MessageTemplate(
                id=str(item.get("id", "")),
                name=str(item.get("name", "")),
                language=str(item.get("language", "")),
                status=str(item.get("status", "")),
                category=item.get("category"),
                components=list(item.get("components") or []),
                parameter_format=item.get("parameter_format"),
                rejected_reason=item.get("rejected_reason"),
            )
            for item in payload.get("data") or []
            if isinstance(item, dict)
        ]
        raw_summary = payload.get("summary")
        summary = (
            TemplateSummary(
                total_count=raw_summary.get("total_count"),
                message_template_count=raw_summary.get("message_template_count"),
                message_template_limit=raw_summary.get("message_template_limit"),
                are_translations_complete=raw_summary.get("are_translations_complete"),
            )
            if isinstance(raw_summary, dict)
            else None
        )
        paging = payload.get("paging") or {}
        # Only a "next" link means there is another page; the cursors are present on every page.
        next_after = paging.get("cursors", {}).get("after") if paging.get("next") else None
        return TemplatePage(templates=templates, summary=summary, after=next_after)

    async def create_template(
        self,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        *,
        parameter_format: str | None = None,
    ) -> CreatedTemplate:
        body: dict[str, Any] = {
            "name": name,
            "language": language,
            "category": category,
            "components": [dict(c) for c in components],
        }
        if parameter_format:
            body["parameter_format"] = parameter_format
        response = await self._call(
            "create_template", "POST", f"{self._root}/{self._waba()}/message_templates", json=body
        )
        payload = self._json("create_template", response)
        return CreatedTemplate(
            id=str(payload.get("id", "")),
            status=str(payload.get("status", "PENDING")),
            category=payload.get("category"),
        )

    async def edit_template(
        self,
        template_id: str,
        *,
        category: str | None = None,
        components: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Edit a template Meta allows to be edited (rejected, paused, or approved within its
        edit limits); an edited template goes back to review."""
        body: dict[str, Any] = {}
        if category:
            body["category"] = category
        if components is not None:
            body["components"] = [dict(c) for c in components]
        response = await self._call(
            "edit_template", "POST", f"{self._root}/{template_id}", json=body
        )
        self._json("edit_template", response)

    async def delete_template(self, name: str, *, template_id: str | None = None) -> None:
        params = {"name": name}
        if template_id:
            params["hsm_id"] = template_id
        await self._call(
            "delete_template",
            "DELETE",
            f"{self._root}/{self._waba()}/message_templates",
            params=params,
        )

    # ------------------------------------------------------------ channel

    async def get_phone_number(self) -> PhoneNumberInfo:
        """The phone number's profile: a 190 here means the token is wrong or expired."""
        response = await self._call(
            "get_phone_number",
            "GET",
            f"{self._root}/{self.phone_number_id}",
            params={"fields": PHONE_NUMBER_FIELDS},
        )
        payload = self._json("get_phone_number", response)
        limit = payload.get("whatsapp_business_manager_messaging_limit")
        return PhoneNumberInfo(
            id=str(payload.get("id") or self.phone_number_id),
            display_phone_number=payload.get("display_phone_number"),
            verified_name=payload.get("verified_name"),
            quality_rating=payload.get("quality_rating"),
            messaging_limit=str(limit) if limit is not None else None,
            raw=payload,
        )


__all__ = ["GraphClient", "HttpGraphClient"]
