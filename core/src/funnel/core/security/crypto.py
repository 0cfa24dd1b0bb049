"""Encryption of secrets at rest (WhatsApp access tokens, app secrets, verify tokens).

:class:`SecretBox` wraps Fernet (AES-128-CBC + HMAC-SHA256, with a timestamp) in a MultiFernet
built from ``settings.auth.encryption_keys``: the first key encrypts, every key decrypts, so a key
rotates by prepending a new one and re-encrypting with :meth:`SecretBox.rotate`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from funnel.core.settings import AuthSettings


class DecryptionError(ValueError):
    """The ciphertext was not made by any configured key, or was tampered with."""


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except (ValueError, binascii.Error):
        # Not a Fernet key (32 url-safe base64 bytes): derive one, so any configured string,
        # the development placeholder included, works. Production keys should be real Fernet
        # keys (``Fernet.generate_key()``); settings refuse the placeholder outside dev and test.
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


class SecretBox:
    def __init__(self, keys: Sequence[SecretStr | str]) -> None:
        raw = [k.get_secret_value() if isinstance(k, SecretStr) else k for k in keys]
        if not raw:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([_fernet(k) for k in raw])

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> SecretBox:
        return cls(settings.encryption_keys)

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken as exc:
            raise DecryptionError("cannot decrypt: unknown key or tampered ciphertext") from exc

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt with the current first key (after prepending a new one)."""
        try:
            return self._fernet.rotate(bytes(ciphertext))
        except InvalidToken as exc:
            raise DecryptionError("cannot rotate: unknown key or tampered ciphertext") from exc


def last4(secret: str) -> str:
    """What the dashboard may show of a secret: its last four characters, or fewer for a short
    one (a secret shorter than 8 characters shows nothing, as four would be half of it)."""
    return secret[-4:] if len(secret) >= 8 else ""
