"""Graph API errors and what to do about each of them.

Two halves:

* :class:`GraphError` and its subclasses: what went wrong, parsed from Graph's error JSON
  (``{"error": {"code", "error_subcode", "message", "error_user_title", "error_data":
  {"details"}, "fbtrace_id", …}}``), or from a failure that never produced that JSON (an HTML
  5xx page, a timeout, a refused connection).
* :func:`classify`: the retry policy for a code, exactly the table in the protocol doc
  (``shared/docs/whatsapp-cloud-api.md`` §1.9). Policy is keyed on ``error.code``, never on the
  HTTP status, because Meta reuses 400 for almost everything; the status only matters when no
  code came back at all.

The sender reads :attr:`GraphError.policy` and never re-derives retry rules from codes itself.
"""

from __future__ import annotations

import enum
import json
import random
from dataclasses import dataclass, replace
from typing import Any


class ErrorKind(enum.StrEnum):
    #: Meta had a problem (1, 2, 131000, 131016, 5xx, timeouts): try again shortly.
    TRANSIENT = "transient"
    #: App-level (4) or WABA-level (80007) API call budget: try again in minutes.
    RATE_LIMIT = "rate_limit"
    #: The number's messages-per-second limit (130429): retry soon and slow the number's bucket.
    THROUGHPUT = "throughput"
    #: Too many messages to the same user (131056): pace that recipient.
    PAIR_RATE = "pair_rate"
    #: The number is briefly unusable, e.g. during a throughput upgrade (131057).
    MAINTENANCE = "maintenance"
    #: Our request is wrong (100, 131008, 131009, 131051): a bug or bad input, not retryable.
    INVALID = "invalid"
    #: The access token is expired or invalid (190): pause the channel until it is rotated.
    AUTH = "auth"
    #: Missing permission or capability (0, 3, 10, 200-299).
    PERMISSION = "permission"
    #: The 24-hour customer-service window is closed (131047): send a template or wait.
    WINDOW_CLOSED = "window_closed"
    #: The recipient cannot receive it (131026) or is in a Meta experiment (130472).
    UNDELIVERABLE = "undeliverable"
    #: Per-user marketing cap (131049): not to this user for at least a day.
    MARKETING_CAP = "marketing_cap"
    #: The user stopped marketing messages (131050): record the opt-out.
    OPTED_OUT = "opted_out"
    #: Spam rate limit from poor quality (131048): throttle the campaign.
    QUALITY = "quality"
    #: The media could not be downloaded or uploaded (131052, 131053).
    MEDIA = "media"
    #: Test numbers only: the recipient is not in the allowed list (131030).
    CONFIG = "config"
    #: Account locked, policy block, country restriction, payment problem.
    POLICY = "policy"
    #: Template parameters, name/language, length, policy or format (132000-132012).
    TEMPLATE = "template"
    #: The template is paused or disabled (132015, 132016): switch to another one.
    TEMPLATE_UNAVAILABLE = "template_unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ErrorPolicy:
    """What the sender does with one failed call.

    ``delay_s(attempt)`` is the wait before retry number ``attempt`` (0 for the first retry):
    ``backoff_base_s * backoff_factor ** attempt``, never below ``min_delay_s`` and never above
    ``max_delay_s``, stretched by up to ``jitter`` so a fleet of workers does not retry in step.
    """

    retryable: bool
    kind: ErrorKind
    min_delay_s: float = 0.0
    backoff_base_s: float = 1.0
    backoff_factor: float = 2.0
    max_delay_s: float = 300.0
    #: Attempts in total, the first one included. Only meaningful when ``retryable``.
    max_attempts: int = 1
    #: Stop every send on the channel until an operator acts (an expired token).
    pause_channel: bool = False
    #: Mark the contact as opted out of marketing.
    record_opt_out: bool = False
    #: Raise the alert metric: a human has to look.
    alert: bool = False
    #: Slow the phone number's token bucket as well as retrying this message.
    slow_channel: bool = False
    #: The delay applies to this recipient only, not to the whole channel.
    per_recipient: bool = False
    #: The request may have reached Meta and been sent, with no way to tell from the response.
    #: There is no idempotency key on the send API, so a retry can duplicate: reconcile through
    #: the ``biz_opaque_callback_data`` echoed in status webhooks before resending.
    may_have_been_sent: bool = False
    #: For non-retryable kinds whose condition lifts by itself (131049): earliest sensible resend.
    not_before_s: float = 0.0

    def delay_s(
        self, attempt: int, *, jitter: float = 0.2, rng: random.Random | None = None
    ) -> float:
        return backoff_delay(
            attempt,
            base_s=self.backoff_base_s,
            factor=self.backoff_factor,
            min_s=self.min_delay_s,
            max_s=self.max_delay_s,
            jitter=jitter,
            rng=rng,
        )


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    factor: float,
    min_s: float = 0.0,
    max_s: float = 300.0,
    jitter: float = 0.2,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff with upward jitter.

    The jitter only lengthens the delay: a minimum such as the pair rate's 6 s is a limit Meta
    enforces, and "full jitter" (anything from zero) would retry into it.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    raw = base_s * factor**attempt if attempt < 64 else max_s
    delay = min(max(raw, min_s), max_s)
    if jitter > 0:
        delay *= 1.0 + (rng or random).uniform(0.0, jitter)
    return delay


def _retry(kind: ErrorKind, **kwargs: Any) -> ErrorPolicy:
    return ErrorPolicy(retryable=True, kind=kind, **kwargs)


def _stop(kind: ErrorKind, **kwargs: Any) -> ErrorPolicy:
    return ErrorPolicy(retryable=False, kind=kind, **kwargs)


_TRANSIENT = _retry(ErrorKind.TRANSIENT, min_delay_s=1.0, backoff_base_s=2.0, max_attempts=5)
_RATE_LIMIT = _retry(
    ErrorKind.RATE_LIMIT,
    min_delay_s=60.0,
    backoff_base_s=60.0,
    backoff_factor=2.0,
    max_delay_s=900.0,
    max_attempts=6,
)
_AUTH_OR_PERMISSION = _stop(ErrorKind.PERMISSION, alert=True)
_TEMPLATE = _stop(ErrorKind.TEMPLATE)
_POLICY_BLOCK = _stop(ErrorKind.POLICY, pause_channel=True, alert=True)

#: The protocol doc's table, code by code. Ranges (200-299) are handled in :func:`classify`.
POLICIES: dict[int, ErrorPolicy] = {
    1: _TRANSIENT,
    2: _TRANSIENT,
    4: _RATE_LIMIT,
    80007: _RATE_LIMIT,
    130429: _retry(
        ErrorKind.THROUGHPUT,
        min_delay_s=1.0,
        backoff_base_s=1.0,
        backoff_factor=2.0,
        max_delay_s=30.0,
        max_attempts=8,
        slow_channel=True,
    ),
    # 4^n s (1, 4, 16, 64 …) but never sooner than the ~6 s the pair rate allows.
    131056: _retry(
        ErrorKind.PAIR_RATE,
        min_delay_s=6.0,
        backoff_base_s=1.0,
        backoff_factor=4.0,
        max_delay_s=600.0,
        max_attempts=6,
        per_recipient=True,
    ),
    131057: _retry(
        ErrorKind.MAINTENANCE,
        min_delay_s=60.0,
        backoff_base_s=60.0,
        backoff_factor=1.5,
        max_delay_s=300.0,
        max_attempts=5,
    ),
    131000: _TRANSIENT,
    131016: _TRANSIENT,
    100: _stop(ErrorKind.INVALID),
    131008: _stop(ErrorKind.INVALID),
    131009: _stop(ErrorKind.INVALID),
    190: _stop(ErrorKind.AUTH, pause_channel=True, alert=True),
    0: _AUTH_OR_PERMISSION,
    3: _AUTH_OR_PERMISSION,
    10: _AUTH_OR_PERMISSION,
    131047: _stop(ErrorKind.WINDOW_CLOSED),
    131026: _stop(ErrorKind.UNDELIVERABLE),
    131049: _stop(ErrorKind.MARKETING_CAP, not_before_s=24 * 3600.0),
    131050: _stop(ErrorKind.OPTED_OUT, record_opt_out=True),
    131048: _stop(ErrorKind.QUALITY, alert=True),
    131051: _stop(ErrorKind.INVALID),
    131052: _stop(ErrorKind.MEDIA),
    131053: _stop(ErrorKind.MEDIA),
    131030: _stop(ErrorKind.CONFIG),
    131031: _POLICY_BLOCK,
    368: _POLICY_BLOCK,
    130497: _POLICY_BLOCK,
    131042: _stop(ErrorKind.POLICY, alert=True),
    132000: _TEMPLATE,
    132001: _TEMPLATE,
    132005: _TEMPLATE,
    132007: _TEMPLATE,
    132012: _TEMPLATE,
    132015: _stop(ErrorKind.TEMPLATE_UNAVAILABLE),
    132016: _stop(ErrorKind.TEMPLATE_UNAVAILABLE),
    130472: _stop(ErrorKind.UNDELIVERABLE),
}

#: A timeout or a 5xx that carried no Graph error: retry, but the send may have gone out.
NO_CODE_TRANSIENT = replace(_TRANSIENT, may_have_been_sent=True)
#: The connection was never made: nothing reached Meta, so a resend cannot duplicate.
NOT_SENT_TRANSIENT = _TRANSIENT
#: A code outside the table: do not loop on something nobody has looked at; make it visible.
UNKNOWN_POLICY = _stop(ErrorKind.UNKNOWN, alert=True)


def classify(code: int | None, *, http_status: int | None = None) -> ErrorPolicy:
    """The policy for a Graph error code.

    ``code=None`` means no Graph error came back (timeout, HTML 5xx): retryable, but flagged
    :attr:`ErrorPolicy.may_have_been_sent`. An unknown code with a 5xx status is treated as
    transient, as Meta's own unknown-error codes are; any other unknown code is not retried.
    """
    if code is None:
        if http_status is not None and http_status < 500:
            return UNKNOWN_POLICY
        return NO_CODE_TRANSIENT
    policy = POLICIES.get(code)
    if policy is not None:
        return policy
    if 200 <= code <= 299:
        return _AUTH_OR_PERMISSION
    if http_status is not None and http_status >= 500:
        return _TRANSIENT
    return UNKNOWN_POLICY


#: Titles Meta uses, for readable messages here and realistic bodies in the sandbox.
ERROR_TITLES: dict[int, str] = {
    0: "AuthException",
    1: "API Unknown",
    2: "API Service",
    3: "API Method",
    4: "API Too Many Calls",
    10: "API Permission Denied",
    100: "Invalid parameter",
    190: "Access token has expired",
    200: "API Permission",
    368: "Temporarily blocked for policies violations",
    80007: "Rate limit issues",
    130429: "Rate limit hit",
    130472: "User's number is part of an experiment",
    130497: "Business account is restricted from messaging users in this country",
    131000: "Something went wrong",
    131008: "Required parameter is missing",
    131009: "Parameter value is not valid",
    131016: "Service unavailable",
    131026: "Message undeliverable",
    131030: "Recipient phone number not in allowed list",
    131031: "Account has been locked",
    131042: "Business eligibility payment issue",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131049: "Meta chose not to deliver",
    131050: "User has stopped marketing messages",
    131051: "Unsupported message type",
    131052: "Media download error",
    131053: "Media upload error",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131057: "Account in maintenance mode",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template does not exist",
    132005: "Translated text too long",
    132007: "Template format character policy violated",
    132012: "Template parameter format mismatch",
    132015: "Template is paused",
    132016: "Template is disabled",
}


class GraphError(Exception):
    """A Graph API call failed. ``policy`` says whether and when to retry.

    The message is built from Meta's code, title and text only: never from the request, so no
    access token, message text or phone number can end up in a log line or a traceback.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        title: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        is_transient: bool | None = None,
        policy: ErrorPolicy | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.subcode = subcode
        self.title = title
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.is_transient = is_transient
        self.policy = policy if policy is not None else classify(code, http_status=http_status)
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.code is not None:
            parts.append(f"({self.code}{f'/{self.subcode}' if self.subcode else ''})")
        if self.title and self.title not in self.message:
            parts.append(f"{self.title}:")
        parts.append(self.message)
        if self.details:
            parts.append(f"- {self.details}")
        if self.http_status is not None:
            parts.append(f"[HTTP {self.http_status}]")
        if self.fbtrace_id:
            parts.append(f"[fbtrace_id {self.fbtrace_id}]")
        return " ".join(parts)

    @property
    def retryable(self) -> bool:
        return self.policy.retryable

    @property
    def kind(self) -> ErrorKind:
        return self.policy.kind

    @property
    def may_have_been_sent(self) -> bool:
        return self.policy.may_have_been_sent


class GraphApiError(GraphError):
    """Meta answered with a Graph error object."""


class GraphThrottledError(GraphApiError):
    """A rate or throughput limit: 4, 80007, 130429, 131056, 131057."""


class GraphAuthError(GraphApiError):
    """The token or the app's permissions: 190, 0, 3, 10, 200-299."""


class GraphRecipientError(GraphApiError):
    """The recipient cannot get it now: window closed, opted out, capped, undeliverable."""


class GraphTemplateError(GraphApiError):
    """The template is wrong, missing, paused or disabled."""


class GraphTransportError(GraphError):
    """No Graph error object came back: an HTML error page, a timeout, a dropped connection."""


class GraphTimeoutError(GraphTransportError):
    """The request timed out. If it was a send, it may have been delivered."""


class GraphValidationError(GraphError, ValueError):
    """Refused locally, before any request: the message breaks one of WhatsApp's field limits."""

    def __init__(self, message: str) -> None:
        super().__init__(message, policy=_stop(ErrorKind.INVALID))


class GraphMediaIntegrityError(GraphError):
    """Downloaded media did not match the sha256 Meta announced for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, policy=replace(_TRANSIENT, max_attempts=2))


_CLASS_BY_KIND: dict[ErrorKind, type[GraphApiError]] = {
    ErrorKind.RATE_LIMIT: GraphThrottledError,
    ErrorKind.THROUGHPUT: GraphThrottledError,
    ErrorKind.PAIR_RATE: GraphThrottledError,
    ErrorKind.MAINTENANCE: GraphThrottledError,
    ErrorKind.AUTH: GraphAuthError,
    ErrorKind.PERMISSION: GraphAuthError,
    ErrorKind.WINDOW_CLOSED: GraphRecipientError,
    ErrorKind.UNDELIVERABLE: GraphRecipientError,
    ErrorKind.MARKETING_CAP: GraphRecipientError,
    ErrorKind.OPTED_OUT: GraphRecipientError,
    ErrorKind.TEMPLATE: GraphTemplateError,
    ErrorKind.TEMPLATE_UNAVAILABLE: GraphTemplateError,
}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def error_from_payload(payload: Any, *, http_status: int | None = None) -> GraphError | None:
    """The error in a Graph JSON body, or ``None`` when the body carries no ``error`` object."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    err: dict[str, Any] = payload["error"]
    code = _as_int(err.get("code"))
    error_data = err.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    title = err.get("error_user_title") or (ERROR_TITLES.get(code) if code is not None else None)
    message = str(err.get("error_user_msg") or err.get("message") or title or "Graph API error")
    transient = err.get("is_transient")
    policy = classify(code, http_status=http_status)
    cls = _CLASS_BY_KIND.get(policy.kind, GraphApiError)
    return cls(
        message,
        code=code,
        subcode=_as_int(err.get("error_subcode")),
        title=str(title) if title else None,
        details=str(details) if details else None,
        fbtrace_id=str(err["fbtrace_id"]) if err.get("fbtrace_id") else None,
        http_status=http_status,
        is_transient=transient if isinstance(transient, bool) else None,
        policy=policy,
    )


def error_from_response(http_status: int, body: bytes, content_type: str = "") -> GraphError:
    """Turn any non-2xx response into a :class:`GraphError`, whatever its body looks like.

    Meta's edge sometimes answers 5xx with an HTML page; that becomes a
    :class:`GraphTransportError` with the no-code policy (retryable, may have been sent).
    """
    payload: Any = None
    if body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
    parsed = error_from_payload(payload, http_status=http_status)
    if parsed is not None:
        return parsed
    kind = "HTML" if "html" in content_type.lower() or body.lstrip()[:1] == b"<" else "non-Graph"
    return GraphTransportError(
        f"{kind} response without a Graph error object",
        http_status=http_status,
        policy=classify(None, http_status=http_status),
    )
