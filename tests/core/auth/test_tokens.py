"""Access tokens: a verified token is remembered for its lifetime, and only for it."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from funnel.core.auth import tokens
from funnel.core.auth.tokens import decode_access_token, issue_access_token
from funnel.core.errors import Unauthorized
from funnel.core.models.enums import MembershipRole
from funnel.core.settings import AuthSettings

KEY = "a-test-signing-key-0123456789abcdef"


def _settings(key: str = KEY) -> AuthSettings:
    return AuthSettings(jwt_secret=SecretStr(key))


def _token(settings: AuthSettings) -> str:
    token, _ = issue_access_token(
        settings,
        user_id=uuid.uuid4(),
        organisation_id=uuid.uuid4(),
        role=MembershipRole.AGENT,
        session_id=uuid.uuid4(),
    )
    return token


def test_a_verified_token_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings()
    token = _token(settings)
    first = decode_access_token(settings, token)
    monkeypatch.setattr(tokens, "_verify", lambda *_: pytest.fail("verified twice"))
    assert decode_access_token(settings, token) == first


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings()
    token = _token(settings)
    claims = decode_access_token(settings, token)
    after_expiry = SimpleNamespace(time=lambda: claims.expires_at.timestamp() + 1)
    monkeypatch.setattr(tokens, "time", after_expiry)
    with pytest.raises(Unauthorized):
        decode_access_token(settings, token)


def test_a_token_remembered_under_one_secret_is_verified_under_another() -> None:
    settings = _settings()
    token = _token(settings)
    decode_access_token(settings, token)
    with pytest.raises(Unauthorized):
        decode_access_token(_settings("another-signing-key-0123456789abcdef"), token)


def test_a_refused_token_is_refused_every_time() -> None:
    settings = _settings()
    forged = _token(_settings("not-our-signing-key-0123456789abcdef"))
    for _ in range(2):
        with pytest.raises(Unauthorized):
            decode_access_token(settings, forged)
