"""Authentication and membership management.

Stateless functions over a session, as every domain service here. Which session matters:

* the ``/auth`` flows (register, login, refresh, logout, accept invitation, change password,
  switch organisation) run on an **unscoped** session: they establish the organisation;
* member management (invite, change role, deactivate) runs on the request's **scoped** session,
  plus an unscoped ``system`` session for the refresh tokens the tenant role may not touch.

Error messages never say whether an email has an account (login) and never echo a token.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, diff, record
from funnel.core.auth.repository import (
    ApiKeyRepository,
    IdentityRepository,
    InvitationRepository,
    MembershipRepository,
)
from funnel.core.auth.schemas import (
    AcceptInvitationRequest,
    ApiKeyCreated,
    ApiKeyRead,
    ChangePasswordRequest,
    ChangeRoleRequest,
    CreateApiKeyRequest,
    InvitationCreated,
    InviteRequest,
    LoginRequest,
    MemberRead,
    MembershipRead,
    MeRead,
    Principal,
    RegisterRequest,
    TokenPair,
    UserRead,
    role_at_least,
)
from funnel.core.auth.throttle import LoginThrottle
from funnel.core.auth.tokens import decode_access_token, issue_access_token, utcnow
from funnel.core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from funnel.core.models import ApiKey, Invitation, Membership, Organisation, RefreshToken, User
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.security.passwords import hash_password, needs_rehash, verify_password
from funnel.core.security.tokens import generate_api_key, generate_token, hash_token
from funnel.core.settings import AuthSettings
from funnel.core.telemetry import get_logger

log = get_logger(__name__)

#: Verified against when the email has no account, so a wrong email costs the same argon2 time
#: as a wrong password and response timing does not reveal which accounts exist.
_DUMMY_HASH = hash_password(generate_token())
_INVALID_LOGIN = "invalid email or password"


# ---------------------------------------------------------------- authenticating requests


async def authenticate_access_token(
    session: AsyncSession, settings: AuthSettings, token: str, *, scope: bool = False
) -> Principal:
    """The principal behind an access token; with ``scope``, ``session`` is scoped to its
    organisation by the same query (no separate round trip)."""
    claims = decode_access_token(settings, token)
    found = await IdentityRepository(session).load_principal(
        claims.user_id, claims.organisation_id, claims.session_id, utcnow(), scope=scope
    )
    if found is None:
        # Deactivated, removed from the organisation, logged out, or the organisation is
        # suspended: the token is as good as expired.
        raise Unauthorized("session is no longer valid")
    user, membership, organisation = found
    return Principal(
        organisation=organisation, user=user, membership=membership, session_id=claims.session_id
    )


async def authenticate_api_key(session: AsyncSession, key: str) -> Principal:
    identity = IdentityRepository(session)
    api_key = await identity.get_api_key_by_hash(hash_token(key))
    now = utcnow()
    if (
        api_key is None
        or api_key.revoked_at is not None
        or (api_key.expires_at is not None and api_key.expires_at <= now)
    ):
        raise Unauthorized("invalid API key")
    organisation = await identity.get_organisation(api_key.organisation_id)
    if organisation is None or not organisation.is_active:
        raise Unauthorized("invalid API key")
    # Minute resolution is plenty for "last used" and spares a write per request.
    if api_key.last_used_at is None or now - api_key.last_used_at > dt.timedelta(minutes=1):
        await identity.touch_api_key(api_key.id, now)
    return Principal(
        organisation=organisation, api_key_id=api_key.id, scopes=frozenset(api_key.scopes)
    )


# ---------------------------------------------------------------- sessions


async def _open_session(
    session: AsyncSession,
    settings: AuthSettings,
    user: User,
    membership: Membership,
    *,
    user_agent: str | None,
    family_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> tuple[TokenPair, RefreshToken]:
    now = now or utcnow()
    family = family_id or uuid.uuid4()
    refresh_value = generate_token()
    refresh = RefreshToken(
        user_id=user.id,
        organisation_id=membership.organisation_id,
        token_hash=hash_token(refresh_value),
        family_id=family,
        expires_at=now + dt.timedelta(seconds=settings.refresh_token_ttl_s),
        user_agent=(user_agent or "")[:512] or None,
    )
    session.add(refresh)
    await session.flush()
    access, access_expires = issue_access_token(
        settings,
        user_id=user.id,
        organisation_id=membership.organisation_id,
        role=membership.role,
        session_id=family,
        now=now,
    )
    pair = TokenPair(
        access_token=access,
        expires_at=access_expires,
        refresh_token=refresh_value,
        refresh_expires_at=refresh.expires_at,
        organisation_id=membership.organisation_id,
        role=membership.role,
    )
    return pair, refresh


def _person(principal: Principal) -> tuple[User, Membership]:
    """The user and membership of a principal that must be a person (not an API key)."""
    if principal.user is None or principal.membership is None:
        raise Forbidden("this operation needs a user session, not an API key")
    return principal.user, principal.membership


def _system_actor(organisation_id: uuid.UUID, user_id: uuid.UUID | None, ip: str | None) -> Actor:
    return Actor(organisation_id=organisation_id, kind=ActorKind.USER, user_id=user_id, ip=ip)


async def register(
    session: AsyncSession,
    settings: AuthSettings,
    request: RegisterRequest,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """A new organisation with its first user as owner. The email must be new: an existing user
    joins another organisation by invitation, never by naming it."""
    identity = IdentityRepository(session)
    if await identity.get_user_by_email(request.email) is not None:
        raise Conflict("an account with this email exists; sign in and ask for an invitation")
    if await identity.slug_taken(request.slug):
        raise Conflict("this organisation slug is taken")
    organisation = Organisation(
        name=request.organisation_name, slug=request.slug, timezone=request.timezone
    )
    user = User(
        email=request.email,
        name=request.name,
        password_hash=hash_password(request.password.get_secret_value()),
        last_login_at=utcnow(),
    )
    session.add_all([organisation, user])
    await session.flush()
    membership = Membership(
        organisation_id=organisation.id, user_id=user.id, role=MembershipRole.OWNER
    )
    session.add(membership)
    await session.flush()
    await record(
        session,
        _system_actor(organisation.id, user.id, ip),
        "organisation.registered",
        entity_type="organisation",
        entity_id=organisation.id,
        changes={"slug": organisation.slug, "owner_user_id": str(user.id)},
    )
    pair, _ = await _open_session(session, settings, user, membership, user_agent=user_agent)
    return pair


async def login(
    session: AsyncSession,
    settings: AuthSettings,
    throttle: LoginThrottle,
    request: LoginRequest,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    await throttle.check(request.email, ip)
    identity = IdentityRepository(session)
    user = await identity.get_user_by_email(request.email)
    password = request.password.get_secret_value()
    valid = verify_password(
        user.password_hash if user is not None and user.password_hash else _DUMMY_HASH, password
    )
    if user is None or not user.password_hash or not valid or not user.is_active:
        await throttle.failure(request.email)
        raise Unauthorized(_INVALID_LOGIN)
    memberships = await identity.memberships_of(user.id)
    chosen = next(
        (
            m
            for m, _ in memberships
            if request.organisation_id is None or m.organisation_id == request.organisation_id
        ),
        None,
    )
    if chosen is None:
        # Right password, but no (such) organisation to open a session in. Not a failed guess.
        raise Forbidden("no active membership in the requested organisation")
    await throttle.success(request.email)
    now = utcnow()
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    pair, _ = await _open_session(session, settings, user, chosen, user_agent=user_agent, now=now)
    return pair


async def _within_reuse_grace(
    identity: IdentityRepository, settings: AuthSettings, token: RefreshToken, now: dt.datetime
) -> bool:
    """A rotated token presented again moments after its rotation, its session still alive."""
    assert token.revoked_at is not None
    grace = dt.timedelta(seconds=settings.refresh_reuse_grace_s)
    return now - token.revoked_at <= grace and await identity.family_alive(token.family_id, now)


async def refresh(
    session: AsyncSession,
    settings: AuthSettings,
    refresh_token: str,
    *,
    user_agent: str | None = None,
) -> TokenPair:
    """Rotate: the presented token is revoked and a successor in the same family is issued.

    A token that was already rotated being presented again means two parties hold it (the
    legitimate client and a thief); which is which cannot be known, so the whole family is
    revoked and both must log in again.

    Except within ``settings.refresh_reuse_grace_s`` of its rotation, while the session is still
    alive: then it is the same client twice (two tabs sharing the token, or a retry after a lost
    answer), and it gets a sibling successor in the same family. The successor's plain value is
    not stored, so the first answer cannot be repeated; both tokens then rotate on their own.
    """
    identity = IdentityRepository(session)
    now = utcnow()
    token = await identity.get_refresh_token_by_hash(hash_token(refresh_token))
    if token is None:
        raise Unauthorized("invalid refresh token")
    if token.revoked_at is not None:
        if token.replaced_by_id is None:
            raise Unauthorized("invalid refresh token")
        if not await _within_reuse_grace(identity, settings, token, now):
            revoked = await identity.revoke_family(token.family_id, now)
            log.warning(
                "auth.refresh_token_reuse",
                extra={"user_id": str(token.user_id), "revoked": revoked},
            )
            raise Unauthorized("refresh token reuse detected; session revoked", commit=True)
        log.info("auth.refresh_token_grace", extra={"user_id": str(token.user_id)})
    if token.expires_at <= now or token.organisation_id is None:
        raise Unauthorized("refresh token expired")
    user = await identity.get_user(token.user_id)
    membership = await identity.get_membership(token.user_id, token.organisation_id)
    organisation = await identity.get_organisation(token.organisation_id)
    if (
        user is None
        or not user.is_active
        or membership is None
        or organisation is None
        or not organisation.is_active
    ):
        await identity.revoke_family(token.family_id, now)
        raise Unauthorized("session is no longer valid", commit=True)
    pair, successor = await _open_session(
        session,
        settings,
        user,
        membership,
        user_agent=user_agent or token.user_agent,
        family_id=token.family_id,
        now=now,
    )
    if token.revoked_at is None:
        token.revoked_at = now
        token.replaced_by_id = successor.id
    return pair


async def logout(session: AsyncSession, session_id: uuid.UUID) -> None:
    await IdentityRepository(session).revoke_family(session_id, utcnow())


async def switch_organisation(
    session: AsyncSession,
    settings: AuthSettings,
    principal: Principal,
    organisation_id: uuid.UUID,
    *,
    user_agent: str | None = None,
) -> TokenPair:
    """Tokens for another of the caller's memberships. The current session stays open."""
    assert principal.user is not None
    identity = IdentityRepository(session)
    membership = next(
        (
            m
            for m, _ in await identity.memberships_of(principal.user.id)
            if m.organisation_id == organisation_id
        ),
        None,
    )
    if membership is None:
        raise NotFound("no membership in that organisation")
    pair, _ = await _open_session(
        session, settings, principal.user, membership, user_agent=user_agent
    )
    return pair


async def me(session: AsyncSession, principal: Principal) -> MeRead:
    user, membership = _person(principal)
    memberships = await IdentityRepository(session).memberships_of(user.id)
    return MeRead(
        user=UserRead.model_validate(user),
        organisation_id=principal.organisation_id,
        role=membership.role,
        is_platform_admin=user.is_platform_admin,
        memberships=[
            MembershipRead(
                organisation_id=o.id,
                organisation_name=o.name,
                organisation_slug=o.slug,
                role=m.role,
            )
            for m, o in memberships
        ],
    )


async def change_password(
    session: AsyncSession, principal: Principal, request: ChangePasswordRequest
) -> int:
    """Change the caller's password and revoke every other session (a changed password is
    often a response to a leak). Returns how many sessions were revoked."""
    assert principal.user is not None
    user = await IdentityRepository(session).get_user(principal.user.id)
    if user is None or not user.password_hash:
        raise Unauthorized("session is no longer valid")
    if not verify_password(user.password_hash, request.current_password.get_secret_value()):
        raise Forbidden("current password is wrong")
    user.password_hash = hash_password(request.new_password.get_secret_value())
    revoked = await IdentityRepository(session).revoke_user_sessions(
        user.id, utcnow(), except_family=principal.session_id
    )
    await record(
        session,
        _system_actor(principal.organisation_id, user.id, None),
        "user.password_changed",
        entity_type="user",
        entity_id=user.id,
        changes={"password": True, "sessions_revoked": revoked},
    )
    return revoked


# ---------------------------------------------------------------- invitations


async def invite(
    session: AsyncSession,
    settings: AuthSettings,
    principal: Principal,
    actor: Actor,
    request: InviteRequest,
) -> InvitationCreated:
    inviter_role = principal.role
    if inviter_role is None or not role_at_least(inviter_role, request.role):
        raise Forbidden("cannot invite with a role above your own")
    members = MembershipRepository.scoped(session)
    existing = await members.get_all(members.with_users().where(User.email == request.email))
    if existing:
        raise Conflict("already a member of this organisation")
    invitations = InvitationRepository.scoped(session)
    now = utcnow()
    # Re-inviting replaces the open invitation (and its link).
    await invitations.revoke_open_for_email(request.email, now)
    token = generate_token()
    invitation = Invitation(
        email=request.email,
        role=request.role,
        token_hash=hash_token(token),
        expires_at=now + dt.timedelta(seconds=settings.invitation_ttl_s),
        invited_by_user_id=principal.user.id if principal.user else None,
    )
    await invitations.create(invitation, flush=True)
    await record(
        session,
        actor,
        "invitation.created",
        entity_type="invitation",
        entity_id=invitation.id,
        changes={"email": request.email, "role": request.role.value},
    )
    return InvitationCreated(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        created_at=invitation.created_at or now,
        accept_token=token,
    )


async def accept_invitation(
    session: AsyncSession,
    settings: AuthSettings,
    request: AcceptInvitationRequest,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Join the inviting organisation. A new email creates the account (name and password
    required); an existing account proves itself with its password, because whoever holds the
    link must not get a session for someone else's account."""
    identity = IdentityRepository(session)
    invitation = await identity.get_invitation_by_hash(hash_token(request.token.get_secret_value()))
    now = utcnow()
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound("invitation not found")
    if invitation.accepted_at is not None:
        raise Conflict("invitation already used")
    if invitation.expires_at <= now:
        raise Conflict("invitation expired")
    organisation = await identity.get_organisation(invitation.organisation_id)
    if organisation is None or not organisation.is_active:
        raise NotFound("invitation not found")
    user = await identity.get_user_by_email(invitation.email)
    if user is None:
        if request.name is None or request.password is None:
            raise ValidationFailed("name and password are required to create the account")
        user = User(
            email=invitation.email,
            name=request.name,
            password_hash=hash_password(request.password.get_secret_value()),
        )
        session.add(user)
        await session.flush()
    else:
        supplied = request.password.get_secret_value() if request.password else ""
        if (
            not user.is_active
            or not user.password_hash
            or not verify_password(user.password_hash, supplied)
        ):
            raise Unauthorized("sign-in required: give this account's password to accept")
        if await identity.get_membership(user.id, invitation.organisation_id) is not None:
            raise Conflict("already a member of this organisation")
    membership = Membership(
        organisation_id=invitation.organisation_id, user_id=user.id, role=invitation.role
    )
    session.add(membership)
    invitation.accepted_at = now
    user.last_login_at = now
    await session.flush()
    await record(
        session,
        _system_actor(invitation.organisation_id, user.id, ip),
        "invitation.accepted",
        entity_type="invitation",
        entity_id=invitation.id,
        changes={"user_id": str(user.id), "role": invitation.role.value},
    )
    pair, _ = await _open_session(
        session, settings, user, membership, user_agent=user_agent, now=now
    )
    return pair


async def list_invitations(session: AsyncSession) -> list[Invitation]:
    return list(await InvitationRepository.scoped(session).list_open(utcnow()))


async def revoke_invitation(session: AsyncSession, actor: Actor, invitation_id: uuid.UUID) -> None:
    invitations = InvitationRepository.scoped(session)
    invitation = await invitations.get_by_id(invitation_id)
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
    ):
        raise NotFound("invitation not found")
    invitation.revoked_at = utcnow()
    await record(
        session, actor, "invitation.revoked", entity_type="invitation", entity_id=invitation.id
    )


# ---------------------------------------------------------------- members


def member_read(membership: Membership) -> MemberRead:
    user = membership.user
    return MemberRead(
        id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        is_active=user.is_active,
        joined_at=membership.created_at,
        last_login_at=user.last_login_at,
    )


async def list_members(session: AsyncSession) -> list[MemberRead]:
    return [member_read(m) for m in await MembershipRepository.scoped(session).list_with_users()]


async def get_member(session: AsyncSession, user_id: uuid.UUID) -> MemberRead:
    membership = await MembershipRepository.scoped(session).get_for_user(user_id)
    if membership is None:
        raise NotFound("user not found")
    return member_read(membership)


async def change_role(
    session: AsyncSession,
    principal: Principal,
    actor: Actor,
    user_id: uuid.UUID,
    request: ChangeRoleRequest,
) -> MemberRead:
    """Admins manage agents and viewers and other admins; only owners touch the owner role.
    Nobody raises their own role, and the last owner cannot be demoted."""
    members = MembershipRepository.scoped(session)
    target = await members.get_for_user(user_id)
    if target is None:
        raise NotFound("user not found")
    actor_user, actor_membership = _person(principal)
    actor_role = actor_membership.role
    if target.role == request.role:
        return member_read(target)
    if actor_user.id == user_id and role_at_least(request.role, actor_role):
        raise Forbidden("you cannot raise your own role")
    if not role_at_least(actor_role, request.role) or not role_at_least(actor_role, target.role):
        raise Forbidden("cannot manage a role above your own")
    if target.role == MembershipRole.OWNER and await members.count_owners() <= 1:
        raise Conflict("the organisation's last owner cannot be demoted")
    before = target.role
    target.role = request.role
    await session.flush()
    await record(
        session,
        actor,
        "membership.role_changed",
        entity_type="user",
        entity_id=user_id,
        changes=diff({"role": before.value}, {"role": request.role.value}),
    )
    return member_read(target)


async def deactivate_member(
    session: AsyncSession,
    system_session: AsyncSession,
    principal: Principal,
    actor: Actor,
    user_id: uuid.UUID,
) -> None:
    """Remove a person's access to this organisation, at once.

    Accounts are global (one person, several organisations), so what an organisation can take
    away is its own membership: the membership row goes, and the person's sessions opened in
    this organisation are revoked. When this was their only organisation the account itself is
    deactivated too (``users.is_active``), which every request checks. Messages they sent and
    the audit trail keep pointing at the user row, which is never deleted here.
    """
    members = MembershipRepository.scoped(session)
    target = await members.get_for_user(user_id)
    if target is None:
        raise NotFound("user not found")
    actor_user, actor_membership = _person(principal)
    actor_role = actor_membership.role
    if actor_user.id == user_id:
        raise Forbidden("you cannot deactivate yourself")
    if not role_at_least(actor_role, target.role):
        raise Forbidden("cannot deactivate a role above your own")
    if target.role == MembershipRole.OWNER and await members.count_owners() <= 1:
        raise Conflict("the organisation's last owner cannot be deactivated")
    identity = IdentityRepository(system_session)
    other_memberships = [
        m
        for m, _ in await identity.memberships_of(user_id)
        if m.organisation_id != principal.organisation_id
    ]
    if not other_memberships:
        target.user.is_active = False
    await record(
        session,
        actor,
        "membership.deactivated",
        entity_type="user",
        entity_id=user_id,
        changes={"role": target.role.value, "account_deactivated": not other_memberships},
    )
    await session.delete(target)
    await session.flush()
    await identity.revoke_user_sessions(
        user_id, utcnow(), organisation_id=principal.organisation_id
    )


# ---------------------------------------------------------------- API keys


async def create_api_key(
    session: AsyncSession, principal: Principal, actor: Actor, request: CreateApiKeyRequest
) -> ApiKeyCreated:
    material = generate_api_key()
    api_key = ApiKey(
        name=request.name,
        prefix=material.prefix,
        key_hash=material.key_hash,
        scopes=request.scopes,
        expires_at=request.expires_at,
        created_by_user_id=principal.user.id if principal.user else None,
    )
    await ApiKeyRepository.scoped(session).create(api_key, flush=True)
    await session.refresh(api_key)
    await record(
        session,
        actor,
        "api_key.created",
        entity_type="api_key",
        entity_id=api_key.id,
        changes={"name": api_key.name, "scopes": api_key.scopes},
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=material.key)


async def list_api_keys(session: AsyncSession) -> list[ApiKeyRead]:
    return [
        ApiKeyRead.model_validate(k) for k in await ApiKeyRepository.scoped(session).list_active()
    ]


async def revoke_api_key(session: AsyncSession, actor: Actor, api_key_id: uuid.UUID) -> None:
    keys = ApiKeyRepository.scoped(session)
    api_key = await keys.get_by_id(api_key_id)
    if api_key is None or api_key.revoked_at is not None:
        raise NotFound("API key not found")
    api_key.revoked_at = utcnow()
    await record(session, actor, "api_key.revoked", entity_type="api_key", entity_id=api_key.id)
