"""The error hierarchy domain services raise and every transport renders.

Each error carries its HTTP status, a stable machine-readable ``code`` and a message safe to show
to the caller (never a secret, a token or a phone number). The API renders all of them in one
handler; GraphQL turns the expected ones into union members. Keep it small: a new class earns its
place only when a caller needs to tell it apart.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FunnelError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        commit: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        #: Keep the transaction's changes although the request fails: a security side effect
        #: (revoking a stolen refresh token's family) must survive the 401 that reports it.
        self.commit = commit


class Unauthorized(FunnelError):
    """No credentials, or credentials that are invalid, expired, revoked or inactive."""

    status_code = 401
    code = "unauthorized"


class Forbidden(FunnelError):
    """Valid credentials without the role or scope the operation needs."""

    status_code = 403
    code = "forbidden"


class NotFound(FunnelError):
    """Missing, or belonging to another organisation: the two are deliberately indistinguishable."""

    status_code = 404
    code = "not_found"


class Conflict(FunnelError):
    status_code = 409
    code = "conflict"


class ValidationFailed(FunnelError):
    """Input that is well-formed but not acceptable (a rule of the domain, not of the schema)."""

    status_code = 422
    code = "validation_failed"


class RateLimited(FunnelError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_s))})
        self.retry_after_s = max(1, retry_after_s)


class UpstreamFailed(FunnelError):
    """A dependency (the Graph API, the LLM) failed in a way the caller cannot fix."""

    status_code = 502
    code = "upstream_failed"
