"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile).

The original used bcrypt through passlib; argon2id is memory-hard and ``needs_rehash`` lets the
parameters be raised later: a login that verifies an old-parameter hash stores a new one.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a wrong password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
