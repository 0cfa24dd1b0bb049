"""``X-Hub-Signature-256``: Meta's HMAC-SHA256 over the exact bytes of a webhook POST.

The MAC covers the bytes as received. Re-serialising parsed JSON changes them (non-ASCII text
may arrive as raw UTF-8 or as ``\\uXXXX`` escapes), so callers hash the raw body and never a
re-encoding of it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence

from pydantic import SecretStr

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


class SignatureResult(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"

    @property
    def ok(self) -> bool:
        return self is SignatureResult.OK


def sign(raw_body: bytes, secret: str | SecretStr) -> str:
    """The header value Meta would send for ``raw_body`` signed with ``secret``."""
    key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return _PREFIX + hmac.new(key.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_signature(
    raw_body: bytes, header: str | None, secrets: Sequence[str | SecretStr]
) -> SignatureResult:
    """Check ``header`` against every secret; any one matching is enough (rotation).

    Every secret is tried even after a match so the time taken does not depend on which one
    matched; each comparison is constant-time.
    """
    if header is None or not header.strip():
        return SignatureResult.MISSING
    value = header.strip()
    if not value.lower().startswith(_PREFIX):
        return SignatureResult.MALFORMED
    digest = value[len(_PREFIX) :].lower()
    if len(digest) != hashlib.sha256().digest_size * 2 or not _HEX_DIGITS.issuperset(digest):
        return SignatureResult.MALFORMED
    matched = False
    for secret in secrets:
        expected = sign(raw_body, secret)[len(_PREFIX) :]
        matched |= hmac.compare_digest(expected, digest)
    return SignatureResult.OK if matched else SignatureResult.MISMATCH
