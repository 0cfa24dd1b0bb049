"""Opaque tokens: refresh tokens, invitation tokens and API keys.

Only a SHA-256 of a token is stored. The tokens carry 256 bits of randomness, so a plain fast
hash is enough (no salt or key stretching: nothing to brute-force), and it lets the token be
found with an indexed equality lookup.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets

#: Recognisable prefix for Funnel API keys (secret scanners and humans can spot a leaked one).
API_KEY_PREFIX = "fnl"


def generate_token(nbytes: int = 32) -> str:
    """A URL-safe random token with ``nbytes`` bytes of randomness."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """The hex SHA-256 stored in ``token_hash`` / ``key_hash`` columns."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a guess matched."""
    return hmac.compare_digest(a.encode(), b.encode())


def token_matches(token: str, token_hash: str) -> bool:
    return tokens_equal(hash_token(token), token_hash)


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKeyMaterial:
    #: Shown to the user once.
    key: str
    #: Stored and shown in listings, to tell keys apart.
    prefix: str
    #: Stored; how the key is looked up.
    key_hash: str


def generate_api_key() -> ApiKeyMaterial:
    """A new key, ``fnl_<8-char id>_<secret>``."""
    key_id = secrets.token_hex(4)
    prefix = f"{API_KEY_PREFIX}_{key_id}"
    key = f"{prefix}_{generate_token()}"
    return ApiKeyMaterial(key=key, prefix=prefix, key_hash=hash_token(key))
