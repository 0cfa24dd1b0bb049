"""The sandbox's memory: recorded sends, scripted failures, media, templates, phone numbers.

Everything is in process memory and bounded, so a sandbox left running under ``funnel dev`` for
days does not grow without limit. The app is served by a single event loop, so plain
containers are safe without locks.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from funnel.core.sandbox.webhooks import WebhookConfig
from funnel.core.whatsapp.ratelimit import ChannelLimiter, Clock, MonotonicClock, PairRatePacer

DEFAULT_MAX_SENT = 1_000
DEFAULT_MAX_MEDIA = 500


class ScriptRule(BaseModel):
    """One scripted answer for the next matching send(s).

    Matches a ``POST /{v}/{phone_number_id}/messages`` by phone number id and/or recipient
    (``to`` or ``recipient`` in the body); a rule with neither matches every send. Rules are
    tried oldest first, and each match uses up one of ``times``.
    """

    phone_number_id: str | None = None
    to: str | None = None
    times: int = Field(default=1, ge=1, le=10_000)
    #: Answer with this Graph error code, in Graph's JSON format.
    error_code: int | None = None
    error_subcode: int | None = None
    error_message: str | None = None
    error_details: str | None = None
    #: Overrides the status the code would realistically come with.
    http_status: int | None = Field(default=None, ge=400, le=599)
    #: Answer with an HTML error page with this status (what Meta's edge sometimes serves).
    html_status: int | None = Field(default=None, ge=400, le=599)
    #: Accept the send (200 and a wamid), then report it ``failed`` with this code by status
    #: webhook, as Meta does for 131047, 131026 or 130472. Needs a configured webhook.
    async_error_code: int | None = None
    #: Wait this long before answering: longer than the client's timeout simulates a timeout.
    #: The send is recorded on arrival, as a real timed-out send may well have gone out.
    delay_s: float = Field(default=0.0, ge=0.0, le=300.0)

    @model_validator(mode="after")
    def _one_outcome(self) -> ScriptRule:
        outcomes = (self.error_code, self.html_status, self.async_error_code)
        if sum(outcome is not None for outcome in outcomes) > 1:
            raise ValueError("give at most one of error_code, html_status and async_error_code")
        return self

    def matches(self, phone_number_id: str, to: str | None) -> bool:
        if self.phone_number_id is not None and self.phone_number_id != phone_number_id:
            return False
        return self.to is None or _digits(self.to) == _digits(to or "")


class MediaSeed(BaseModel):
    """``POST /sandbox/media``: register bytes under a media id, as if a user had sent them."""

    content_b64: str
    mime_type: str = "application/octet-stream"
    media_id: str | None = None
    phone_number_id: str | None = None
    #: The first download of the URL answers 404, as an expired lookaside URL does.
    expire_once: bool = False


class PhoneNumberSeed(BaseModel):
    phone_number_id: str
    #: When set, only this token is accepted for the number; anything else gets 401 / 190.
    token: str | None = None
    display_phone_number: str = "15550783881"
    verified_name: str = "Funnel Sandbox"
    quality_rating: str = "GREEN"
    messaging_limit: str = "TIER_250"


class TemplateSeed(BaseModel):
    """``POST /sandbox/templates``: a template with any status, as if Meta had reviewed it."""

    waba_id: str
    name: str
    language: str = "en_US"
    category: str = "UTILITY"
    status: str = "APPROVED"
    components: list[dict[str, Any]] = Field(default_factory=list)
    parameter_format: str = "POSITIONAL"


class LimitsConfig(BaseModel):
    """Meta's rate limits, enforced by the sandbox when set (both off by default).

    ``mps`` per phone number gives 130429 when exceeded; ``pair_burst`` messages to one user,
    repaid at one per ``pair_interval_s``, gives 131056. This lets the sender's own pacing be
    tested against a server that really refuses, not only against scripted errors.
    """

    mps: float | None = Field(default=None, gt=0)
    pair_burst: int | None = Field(default=None, ge=1)
    pair_interval_s: float = Field(default=6.0, gt=0)


class SandboxLimits:
    def __init__(self, config: LimitsConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        clock = clock or MonotonicClock()
        self._limiter = ChannelLimiter(default_rate=config.mps, clock=clock) if config.mps else None
        self._pacer = (
            PairRatePacer(interval_s=config.pair_interval_s, burst=config.pair_burst, clock=clock)
            if config.pair_burst
            else None
        )

    def check(self, phone_number_id: str, recipient: str) -> int | None:
        """The error code Meta would answer this send with, or ``None`` to accept it."""
        if self._limiter is not None and self._limiter.bucket(phone_number_id).reserve() > 0:
            return 130429
        if self._pacer is not None and self._pacer.reserve(phone_number_id, recipient) > 0:
            return 131056
        return None


@dataclass(slots=True)
class MediaBlob:
    id: str
    content: bytes
    mime_type: str
    sha256: str
    phone_number_id: str | None
    expire_once: bool = False


@dataclass(slots=True)
class SentRecord:
    seq: int
    at: str
    phone_number_id: str
    kind: Literal["message", "read"]
    to: str | None
    type: str | None
    body: dict[str, Any]
    status: Literal["accepted", "error"]
    http_status: int
    wamid: str | None
    error_code: int | None
    biz_opaque_callback_data: str | None
    correlation_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "phone_number_id": self.phone_number_id,
            "kind": self.kind,
            "to": self.to,
            "type": self.type,
            "body": self.body,
            "status": self.status,
            "http_status": self.http_status,
            "wamid": self.wamid,
            "error_code": self.error_code,
            "biz_opaque_callback_data": self.biz_opaque_callback_data,
            "correlation_id": self.correlation_id,
        }


@dataclass
class SandboxState:
    max_sent: int = DEFAULT_MAX_SENT
    max_media: int = DEFAULT_MAX_MEDIA
    sent: deque[SentRecord] = field(init=False)
    script: list[ScriptRule] = field(default_factory=list)
    media: OrderedDict[str, MediaBlob] = field(default_factory=OrderedDict)
    phone_numbers: dict[str, PhoneNumberSeed] = field(default_factory=dict)
    #: waba_id → templates (Graph JSON objects), in creation order.
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Where to post status webhooks; ``None`` posts none.
    webhook: WebhookConfig | None = None
    #: Meta's throughput and pair-rate limits; ``None`` enforces neither.
    limits: SandboxLimits | None = None
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000_001))

    def __post_init__(self) -> None:
        self.sent = deque(maxlen=self.max_sent)

    # ------------------------------------------------------------ recording

    def record(self, **fields: Any) -> SentRecord:
        entry = SentRecord(seq=next(self._seq), at=datetime.now(UTC).isoformat(), **fields)
        self.sent.append(entry)
        return entry

    def take_rule(self, phone_number_id: str, to: str | None) -> ScriptRule | None:
        for index, rule in enumerate(self.script):
            if rule.matches(phone_number_id, to):
                rule.times -= 1
                if rule.times <= 0:
                    del self.script[index]
                return rule
        return None

    # ------------------------------------------------------------ ids

    def new_id(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def new_wamid(wa_id: str) -> str:
        # Meta's wamids are base64 of a protobuf-ish blob that starts with the recipient; ours
        # keep the recognisable prefix and are unique.
        raw = f"{wa_id}\x15\x02\x00\x11\x18\x20{secrets.token_hex(10).upper()}".encode()
        return "wamid.HBgM" + base64.b64encode(raw).decode()

    # ------------------------------------------------------------ media

    def add_media(
        self,
        content: bytes,
        mime_type: str,
        *,
        media_id: str | None = None,
        phone_number_id: str | None = None,
        expire_once: bool = False,
    ) -> MediaBlob:
        blob = MediaBlob(
            id=media_id or self.new_id(),
            content=content,
            mime_type=mime_type,
            sha256=hashlib.sha256(content).hexdigest(),
            phone_number_id=phone_number_id,
            expire_once=expire_once,
        )
        self.media[blob.id] = blob
        self.media.move_to_end(blob.id)
        while len(self.media) > self.max_media:
            self.media.popitem(last=False)
        return blob

    # ------------------------------------------------------------ templates

    def find_template(self, name: str, language: str) -> dict[str, Any] | None:
        for templates in self.templates.values():
            for template in templates:
                if template["name"] == name and template["language"] == language:
                    return template
        return None

    def reset(self) -> None:
        self.sent.clear()
        self.script.clear()
        self.media.clear()
        self.templates.clear()


def _digits(value: str) -> str:
    return value.lstrip("+")
