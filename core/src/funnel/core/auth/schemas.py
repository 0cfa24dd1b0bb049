"""What the auth domain takes and returns. Nothing here ever carries a password hash, a token
hash or a secret: responses are built from these models only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
import zoneinfo
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from funnel.core.models import Membership, Organisation, User
from funnel.core.models.enums import MembershipRole

#: Owner > admin > agent > viewer. A role may do everything the roles below it may.
ROLE_RANK: dict[MembershipRole, int] = {
    MembershipRole.VIEWER: 0,
    MembershipRole.AGENT: 1,
    MembershipRole.ADMIN: 2,
    MembershipRole.OWNER: 3,
}

#: Scopes an API key may hold. A route open to integrations names the one it needs.
API_KEY_SCOPES: frozenset[str] = frozenset(
    {
        "leads:read",
        "leads:write",
        "conversations:read",
        "conversations:write",
        "messages:send",
        "templates:read",
        "templates:write",
        "analytics:read",
        "knowledge:read",
        "knowledge:write",
    }
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

Password = Annotated[SecretStr, Field(min_length=10, max_length=256)]

# Deliberately loose (one @, a dot in the domain, no spaces): the invitation or the login proves
# an address works; a strict grammar only rejects real addresses.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value.lower()


EmailStr = Annotated[
    str, Field(max_length=320, examples=["ana@example.com"]), AfterValidator(_email)
]


def role_at_least(role: MembershipRole, minimum: MembershipRole) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[minimum]


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, established from the credentials and nothing else.

    A user (access JWT) has a membership and a role; an API key has scopes and no role. Either
    way ``organisation_id`` is the only organisation the request may touch.
    """

    organisation: Organisation
    user: User | None = None
    membership: Membership | None = None
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] = frozenset()
    #: The refresh-token family of a user's login session.
    session_id: uuid.UUID | None = None

    @property
    def organisation_id(self) -> uuid.UUID:
        return self.organisation.id

    @property
    def role(self) -> MembershipRole | None:
        return self.membership.role if self.membership is not None else None

    @property
    def is_user(self) -> bool:
        return self.user is not None


# ---------------------------------------------------------------- requests
class RegisterRequest(BaseModel):
    organisation_name: str = Field(min_length=1, max_length=255)
    slug: str = Field(min_length=2, max_length=63, examples=["acme-sales"])
    timezone: str = Field(default="UTC", max_length=64, examples=["Asia/Kolkata"])
    name: str = Field(min_length=1, max_length=255)
    email: EmailStr
    password: Password

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("lowercase letters, digits and hyphens; starts with a letter or digit")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)


def validate_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not an IANA timezone name") from exc
    return value


class LoginRequest(BaseModel):
    email: EmailStr
    password: SecretStr = Field(min_length=1, max_length=256)
    #: Which membership to open the session in; the oldest one when omitted.
    organisation_id: uuid.UUID | None = None


class RefreshRequest(BaseModel):
    refresh_token: SecretStr = Field(min_length=1, max_length=512)


class SwitchOrganisationRequest(BaseModel):
    organisation_id: uuid.UUID


class AcceptInvitationRequest(BaseModel):
    token: SecretStr = Field(min_length=1, max_length=512)
    #: Needed when the invited email has no account yet; ignored otherwise.
    name: str | None = Field(default=None, min_length=1, max_length=255)
    password: Password | None = None


class ChangePasswordRequest(BaseModel):
    current_password: SecretStr = Field(min_length=1, max_length=256)
    new_password: Password


class InviteRequest(BaseModel):
    email: EmailStr
    role: MembershipRole = MembershipRole.AGENT


class ChangeRoleRequest(BaseModel):
    role: MembershipRole


class CreateApiKeyRequest(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(default_factory=list, max_length=len(API_KEY_SCOPES))
    expires_at: dt.datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - API_KEY_SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        return sorted(set(value))


# ---------------------------------------------------------------- responses
class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: dt.datetime
    refresh_token: str
    refresh_expires_at: dt.datetime
    organisation_id: uuid.UUID
    role: MembershipRole


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    is_active: bool
    last_login_at: dt.datetime | None
    created_at: dt.datetime


class MembershipRead(BaseModel):
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_slug: str
    role: MembershipRole


class MeRead(BaseModel):
    user: UserRead
    organisation_id: uuid.UUID
    role: MembershipRole
    is_platform_admin: bool
    memberships: list[MembershipRead]


class MemberRead(BaseModel):
    """A user as seen from one organisation: the person and their role in it."""

    id: uuid.UUID
    email: str
    name: str
    role: MembershipRole
    is_active: bool
    joined_at: dt.datetime
    last_login_at: dt.datetime | None


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: MembershipRole
    expires_at: dt.datetime
    created_at: dt.datetime


class InvitationCreated(InvitationRead):
    #: The link with the single-use token. Returned once, to the admin who invited, so it can be
    #: sent by whatever channel they choose; it is never stored or shown again.
    accept_token: str


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    #: The key itself, shown this once.
    key: str
