from __future__ import annotations

import datetime as dt
import re
import uuid

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

_DIGITS = re.compile(r"^\d{5,32}$")
_VERSION = re.compile(r"^v\d{1,2}\.\d$")


def _digits(value: str) -> str:
    if not _DIGITS.match(value):
        raise ValueError("a numeric Meta id")
    return value


class ChannelConnect(BaseModel):
    """Credentials for one WhatsApp Business number. Write-only: never returned."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "phone_number_id": "106540352242922",
                    "waba_id": "102290129340398",
                    "access_token": "EAAG-example-token-value",
                    "app_secret": "0123456789abcdef0123456789abcdef",
                    "verify_token": "a-verify-token-of-your-choice",
                }
            ]
        },
    )

    phone_number_id: str = Field(max_length=32)
    waba_id: str = Field(max_length=32)
    access_token: SecretStr = Field(min_length=8, max_length=1024)
    app_secret: SecretStr = Field(min_length=8, max_length=256)
    #: What the webhook GET handshake must present; chosen by the business in Meta's console.
    verify_token: SecretStr = Field(min_length=8, max_length=256)
    name: str | None = Field(default=None, max_length=255)
    graph_version: str | None = Field(default=None, max_length=16, examples=["v23.0"])

    @field_validator("phone_number_id", "waba_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return _digits(value)

    @field_validator("graph_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not _VERSION.match(value):
            raise ValueError("like v23.0")
        return value


class ChannelCredentialsUpdate(BaseModel):
    """Replace the access token (re-checked with Meta) and/or the verify token."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"access_token": "EAAG-new-token-value"}]},
    )

    access_token: SecretStr | None = Field(default=None, min_length=8, max_length=1024)
    verify_token: SecretStr | None = Field(default=None, min_length=8, max_length=256)
    name: str | None = Field(default=None, max_length=255)


class AppSecretRotate(BaseModel):
    """A new app secret. The previous one stays accepted (for webhooks signed before Meta
    switched) until the next rotation, or until ``keep_previous`` is false."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"app_secret": "fedcba9876543210fedcba9876543210"}]},
    )

    app_secret: SecretStr = Field(min_length=8, max_length=256)
    keep_previous: bool = True


class ChannelRead(BaseModel):
    """A channel as the dashboard sees it: the last four characters of each secret, never more."""

    id: uuid.UUID
    name: str | None
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    graph_version: str
    is_connected: bool
    paused_reason: str | None
    access_token_last4: str
    app_secret_last4: str
    app_secrets_active: int
    verify_token_last4: str
    messages_per_second: int
    created_at: dt.datetime
    updated_at: dt.datetime


class InternalChannel(BaseModel):
    """What ``/internals/channels`` tells a component: routing facts and a fingerprint that
    changes whenever the channel's configuration (secrets included) does. No secret."""

    phone_number_id: str
    waba_id: str
    organisation_id: uuid.UUID
    is_connected: bool
    config_hash: str


class InternalChannelList(BaseModel):
    channels: list[InternalChannel]
    #: Changes when any channel does: a poller compares it and refetches nothing otherwise.
    hash: str
