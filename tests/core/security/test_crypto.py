from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import WhatsAppChannel
from funnel.core.security.crypto import DecryptionError, SecretBox, last4
from funnel.core.settings import DEV_PLACEHOLDER, AuthSettings
from tests.factories import make_channel, make_organisation, test_box


def test_round_trip_with_a_real_fernet_key() -> None:
    box = SecretBox([Fernet.generate_key().decode()])
    ciphertext = box.encrypt("EAAG-access-token")
    assert b"EAAG" not in ciphertext
    assert box.decrypt(ciphertext) == "EAAG-access-token"


def test_the_development_placeholder_is_stretched_into_a_key() -> None:
    box = SecretBox.from_settings(AuthSettings())
    assert AuthSettings().encryption_keys[0].get_secret_value() == DEV_PLACEHOLDER
    assert box.decrypt(box.encrypt("secret")) == "secret"


def test_a_different_key_cannot_decrypt() -> None:
    ciphertext = SecretBox(["key-one"]).encrypt("secret")
    with pytest.raises(DecryptionError):
        SecretBox(["key-two"]).decrypt(ciphertext)


def test_tampered_ciphertext_is_rejected() -> None:
    box = SecretBox(["key"])
    ciphertext = bytearray(box.encrypt("secret"))
    ciphertext[-5] ^= 0x01
    with pytest.raises(DecryptionError):
        box.decrypt(bytes(ciphertext))


def test_keys_rotate_by_prepending_a_new_one() -> None:
    old = SecretBox([SecretStr("old-key")])
    ciphertext = old.encrypt("secret")
    rotated = SecretBox([SecretStr("new-key"), SecretStr("old-key")])
    assert rotated.decrypt(ciphertext) == "secret"
    re_encrypted = rotated.rotate(ciphertext)
    assert SecretBox(["new-key"]).decrypt(re_encrypted) == "secret"
    with pytest.raises(DecryptionError):
        old.decrypt(re_encrypted)


def test_last4_shows_little_of_a_secret() -> None:
    assert last4("EAAGm0PX4ZCpsBAKZC") == "AKZC"
    assert last4("short") == ""


async def test_channel_secrets_are_encrypted_at_rest(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(
        db_session,
        organisation,
        access_token="EAAG-plaintext-access-token",
        app_secret="plaintext-app-secret",
        verify_token="plaintext-verify-token",
    )
    row = (
        await db_session.execute(
            sa.text(
                "SELECT access_token_encrypted, app_secrets_encrypted, verify_token_encrypted, "
                "access_token_last4 FROM whatsapp_channels WHERE id = :id"
            ),
            {"id": channel.id},
        )
    ).one()
    raw = b"".join([row[0], *row[1], row[2]])
    for plaintext in (b"EAAG-plaintext-access-token", b"plaintext-app-secret", b"plaintext"):
        assert plaintext not in raw
    assert row[3] == "oken"

    stored = await db_session.get(WhatsAppChannel, channel.id)
    assert stored is not None
    assert test_box.decrypt(stored.access_token_encrypted) == "EAAG-plaintext-access-token"
    assert [test_box.decrypt(s) for s in stored.app_secrets_encrypted] == ["plaintext-app-secret"]
    assert test_box.decrypt(stored.verify_token_encrypted) == "plaintext-verify-token"
