"""Access tokens: short-lived HS256 JWTs.

The claims name the user (``sub``), the organisation the session is in (``org``), the role at
issue time (``role``, informative only: every request re-reads the membership, so a demotion takes
effect at once) and the session (``sid``, the refresh-token family, so a logout or a revoked family
stops its access tokens too). ``exp`` and ``iat`` are integer seconds computed from aware UTC
datetimes: the original computed them from a naive local datetime that PyJWT read as UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid

import jwt

from funnel.core.errors import Unauthorized
from funnel.core.models.enums import MembershipRole
from funnel.core.settings import AuthSettings

ISSUER = "funnel"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret


@dataclasses.dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    role: MembershipRole
    session_id: uuid.UUID
    expires_at: dt.datetime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue_access_token(
    settings: AuthSettings,
    *,
    user_id: uuid.UUID,
    organisation_id: uuid.UUID,
    role: MembershipRole,
    session_id: uuid.UUID,
    now: dt.datetime | None = None,
) -> tuple[str, dt.datetime]:
    issued_at = now or utcnow()
    if issued_at.tzinfo is None:
        raise ValueError("token times must be timezone-aware")
    expires_at = issued_at + dt.timedelta(seconds=settings.access_token_ttl_s)
    claims = {
        "iss": ISSUER,
        "typ": ACCESS_TOKEN_TYPE,
        "sub": str(user_id),
        "org": str(organisation_id),
        "role": role.value,
        "sid": str(session_id),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    token = jwt.encode(
        claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm
    )
    return token, expires_at


#: Tokens whose signature and claims were verified: a client sends the same token with every
#: request for its lifetime, and verifying it (base64, JSON, HMAC, the claim checks) was a
#: tenth of a small request's CPU. Keyed by the secret and algorithm too, so a changed secret
#: verifies afresh; expiry is checked again at every use. Bounded: cleared when full.
_VERIFIED: dict[tuple[str, str, str], AccessClaims] = {}
_VERIFIED_MAX = 4096


def decode_access_token(settings: AuthSettings, token: str) -> AccessClaims:
    """The token's claims, or :class:`Unauthorized` for anything not a valid, unexpired access
    token of ours. The reason is not told to the caller."""
    key = (settings.jwt_secret.get_secret_value(), settings.jwt_algorithm, token)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _verify(settings, token)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = claims
    # PyJWT's own rule: valid while ``exp`` is still ahead.
    if claims.expires_at.timestamp() <= time.time():
        _VERIFIED.pop(key, None)
        raise Unauthorized("invalid or expired access token")
    return claims


def _verify(settings: AuthSettings, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            # A fixed list: the algorithm is never taken from the token's own header.
            algorithms=[settings.jwt_algorithm],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "org", "sid", "typ"]},
        )
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise Unauthorized("invalid access token")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            organisation_id=uuid.UUID(claims["org"]),
            role=MembershipRole(claims.get("role", MembershipRole.VIEWER.value)),
            session_id=uuid.UUID(claims["sid"]),
            expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise Unauthorized("invalid or expired access token") from exc
