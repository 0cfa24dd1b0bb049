"""The dependencies every route is built from.

``SessionDep``
    One session per request. Committed at the edge when the route returns, rolled back when it
    raises, and in both cases *before* the response is sent (``scope="function"``): a client
    acting on the answer at once must find the write (a new login's session, above all).
    Unscoped until an auth dependency scopes it.
``PrincipalDep`` / ``CurrentUser`` / ``CurrentMembership`` / ``OrganisationDep``
    Who is calling and for which organisation. The organisation comes from the credentials only
    (the access JWT's ``org`` claim checked against a live membership, or the API key's row),
    never from a path, query or body. Authenticating scopes the request's session to that
    organisation with :func:`funnel.core.db.tenancy.scope_to_organisation`, so row-level
    security is in force for everything the route does afterwards.
``require_role(role, scope=...)``
    A dependency factory: a user needs at least ``role``; an API key needs ``scope`` (routes that
    name no scope are closed to API keys).
``ServiceDep``
    The service token for ``/internals``: ``Authorization: Bearer <token>`` or
    ``X-Service-Token``, compared in constant time.

Credentials are read from headers only. A token in a URL ends up in access logs and browser
history (the original put its JWT in the WebSocket query string).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from funnel.api.resources import Resources
from funnel.core.audit.writer import Actor
from funnel.core.auth.schemas import Principal, role_at_least
from funnel.core.auth.service import authenticate_access_token, authenticate_api_key
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.errors import Forbidden, FunnelError, Unauthorized
from funnel.core.models import Membership, Organisation, User
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.security.tokens import API_KEY_PREFIX, tokens_equal
from funnel.core.settings import Settings
from funnel.core.telemetry import correlation_id

# ---------------------------------------------------------------- resources and the session
#
# Every dependency here is ``async def``, even those that do not await: FastAPI runs a plain
# ``def`` dependency in a worker thread, a hop that costs more than most of them do.


async def get_resources(connection: HTTPConnection) -> Resources:
    resources: Resources = connection.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings_dep(resources: ResourcesDep) -> Settings:
    return resources.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessionmaker() as session:
        try:
            yield session
        except FunnelError as exc:
            await (session.commit() if exc.commit else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# FastAPI runs a yield dependency's exit code after the response is sent unless its scope is
# "function"; committing after the answer let a fast client's next request miss the write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_system_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """A second, never-scoped session for the identity writes a tenant-scoped request needs
    (revoking a deactivated member's refresh tokens: that table is not granted to the tenant
    role). Committed at the edge after the request's own session, rolled back on error."""
    async with resources.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SystemSessionDep = Annotated[AsyncSession, Depends(get_system_session, scope="function")]


# ---------------------------------------------------------------- credentials


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    kind: str  # "jwt" | "api_key"
    value: str


def read_credentials(connection: HTTPConnection) -> Credentials | None:
    """The bearer credential from the headers. ``fnl_…`` is an API key; anything else a JWT."""
    api_key = connection.headers.get("x-api-key")
    if api_key:
        return Credentials("api_key", api_key.strip())
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    value = value.strip()
    if value.startswith(f"{API_KEY_PREFIX}_"):
        return Credentials("api_key", value)
    return Credentials("jwt", value)


async def authenticate(
    session: AsyncSession, resources: Resources, credentials: Credentials
) -> Principal:
    """Resolve credentials to a principal and scope ``session`` to its organisation."""
    if credentials.kind == "api_key":
        principal = await authenticate_api_key(session, credentials.value)
        await scope_to_organisation(session, principal.organisation_id)
        return principal
    # The authentication query scopes the session itself: one round trip fewer per request.
    return await authenticate_access_token(
        session, resources.settings.auth, credentials.value, scope=True
    )


async def get_principal(
    connection: HTTPConnection, session: SessionDep, resources: ResourcesDep
) -> Principal:
    credentials = read_credentials(connection)
    if credentials is None:
        raise Unauthorized(
            "missing credentials", headers={"WWW-Authenticate": 'Bearer realm="funnel"'}
        )
    try:
        return await authenticate(session, resources, credentials)
    except Unauthorized as exc:
        exc.headers.setdefault("WWW-Authenticate", 'Bearer realm="funnel", error="invalid_token"')
        raise


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_current_principal_user(principal: PrincipalDep) -> Principal:
    """A principal that is a person: API keys are refused (403), for routes about one's own
    account or anything an integration has no business doing."""
    if principal.user is None or principal.membership is None:
        raise Forbidden("this operation needs a user session, not an API key")
    return principal


UserPrincipalDep = Annotated[Principal, Depends(get_current_principal_user)]


async def get_current_user(principal: UserPrincipalDep) -> User:
    assert principal.user is not None
    return principal.user


async def get_current_membership(principal: UserPrincipalDep) -> Membership:
    assert principal.membership is not None
    return principal.membership


async def get_organisation(principal: PrincipalDep) -> Organisation:
    return principal.organisation


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentMembership = Annotated[Membership, Depends(get_current_membership)]
OrganisationDep = Annotated[Organisation, Depends(get_organisation)]


def require_role(
    minimum: MembershipRole, *, scope: str | None = None
) -> Callable[[Principal], Awaitable[Principal]]:
    """``Depends(require_role(MembershipRole.ADMIN))`` → the principal, or 403.

    With ``scope``, an API key holding that scope passes too; without it API keys are refused.
    """

    async def dependency(principal: PrincipalDep) -> Principal:
        if principal.membership is not None:
            if not role_at_least(principal.membership.role, minimum):
                raise Forbidden(f"requires the {minimum.value} role or higher")
            return principal
        if scope is None or scope not in principal.scopes:
            raise Forbidden(
                f"this API key lacks the {scope} scope" if scope else "not open to API keys"
            )
        return principal

    dependency.__name__ = f"require_{minimum.value}" + (f"_or_{scope}" if scope else "")
    return dependency


ViewerDep = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER))]
AgentDep = Annotated[Principal, Depends(require_role(MembershipRole.AGENT))]
AdminDep = Annotated[Principal, Depends(require_role(MembershipRole.ADMIN))]
OwnerDep = Annotated[Principal, Depends(require_role(MembershipRole.OWNER))]


async def require_platform_admin(principal: UserPrincipalDep) -> Principal:
    assert principal.user is not None
    if not principal.user.is_platform_admin:
        raise Forbidden("platform administrators only")
    return principal


PlatformAdminDep = Annotated[Principal, Depends(require_platform_admin)]


# ---------------------------------------------------------------- service-to-service


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceCaller:
    """A component (receiver, operator) calling ``/internals``. It has no organisation: the
    internal routes are read-only system views and say so in their docs."""


async def require_service(connection: HTTPConnection, resources: ResourcesDep) -> ServiceCaller:
    header = connection.headers.get("x-service-token") or ""
    if not header:
        scheme, _, value = connection.headers.get("authorization", "").partition(" ")
        header = value.strip() if scheme.lower() == "bearer" else ""
    expected = resources.settings.auth.service_token.get_secret_value()
    # Constant time, and an empty configured token never matches anything.
    if not header or not expected or not tokens_equal(header, expected):
        raise Unauthorized("invalid service token")
    return ServiceCaller()


ServiceDep = Annotated[ServiceCaller, Depends(require_service)]


# ---------------------------------------------------------------- audit context


def client_ip(connection: HTTPConnection) -> str | None:
    """The peer address (uvicorn applies X-Forwarded-For from trusted proxies only)."""
    host = connection.client.host if connection.client else None
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def get_actor(connection: HTTPConnection, principal: PrincipalDep) -> Actor:
    return Actor(
        organisation_id=principal.organisation_id,
        kind=ActorKind.USER if principal.user is not None else ActorKind.API_KEY,
        user_id=principal.user.id if principal.user is not None else None,
        api_key_id=principal.api_key_id,
        ip=client_ip(connection),
        correlation_id=correlation_id(),
    )


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_client_ip(connection: HTTPConnection) -> str | None:
    return client_ip(connection)


ClientIpDep = Annotated[str | None, Depends(get_client_ip)]
