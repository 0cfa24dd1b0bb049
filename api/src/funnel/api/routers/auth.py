"""``/auth``: register, login, refresh, logout, me, accept invitation, change password, switch
organisation. Tokens travel in bodies and the ``Authorization`` header, never in URLs."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from funnel.api.deps import (
    ClientIpDep,
    ResourcesDep,
    SessionDep,
    SystemSessionDep,
    UserPrincipalDep,
)
from funnel.api.errors import error_responses
from funnel.api.permissions import PUBLIC, USER, Access
from funnel.core.auth import service
from funnel.core.auth.schemas import (
    AcceptInvitationRequest,
    ChangePasswordRequest,
    LoginRequest,
    MeRead,
    RefreshRequest,
    RegisterRequest,
    SwitchOrganisationRequest,
    TokenPair,
)

router = APIRouter(prefix="/auth", tags=["auth"])

PERMISSIONS: dict[str, Access] = {
    "POST /auth/register": PUBLIC,
    "POST /auth/login": Access(PUBLIC.level, note="rate-limited per account and per IP"),
    "POST /auth/refresh": Access(PUBLIC.level, note="the refresh token is the credential"),
    "POST /auth/logout": USER,
    "GET /auth/me": USER,
    "POST /auth/accept-invitation": Access(
        PUBLIC.level, note="the invitation token is the credential"
    ),
    "POST /auth/change-password": USER,
    "POST /auth/switch-organisation": USER,
}


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 422),
    summary="Create an organisation and its owner",
)
async def register(
    body: RegisterRequest,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    ip: ClientIpDep,
) -> TokenPair:
    return await service.register(
        session, resources.settings.auth, body, ip=ip, user_agent=_user_agent(request)
    )


@router.post("/login", responses=error_responses(401, 403, 429), summary="Log in")
async def login(
    body: LoginRequest,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    ip: ClientIpDep,
) -> TokenPair:
    return await service.login(
        session,
        resources.settings.auth,
        resources.throttle,
        body,
        ip=ip,
        user_agent=_user_agent(request),
    )


@router.post(
    "/refresh", responses=error_responses(401), summary="Rotate a refresh token for new tokens"
)
async def refresh(
    body: RefreshRequest, request: Request, session: SessionDep, resources: ResourcesDep
) -> TokenPair:
    return await service.refresh(
        session,
        resources.settings.auth,
        body.refresh_token.get_secret_value(),
        user_agent=_user_agent(request),
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403),
    summary="Revoke the current login (its refresh tokens and access tokens)",
)
async def logout(principal: UserPrincipalDep, system_session: SystemSessionDep) -> None:
    assert principal.session_id is not None
    await service.logout(system_session, principal.session_id)


@router.get("/me", responses=error_responses(401, 403), summary="The caller and their memberships")
async def me(principal: UserPrincipalDep, system_session: SystemSessionDep) -> MeRead:
    # Unscoped: the caller's memberships in *other* organisations are hidden from the tenant role.
    return await service.me(system_session, principal)


@router.post(
    "/accept-invitation",
    responses=error_responses(401, 404, 409, 422),
    summary="Join an organisation with an invitation token",
)
async def accept_invitation(
    body: AcceptInvitationRequest,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    ip: ClientIpDep,
) -> TokenPair:
    return await service.accept_invitation(
        session, resources.settings.auth, body, ip=ip, user_agent=_user_agent(request)
    )


@router.post(
    "/change-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 422),
    summary="Change the password; every other session is revoked",
)
async def change_password(
    body: ChangePasswordRequest, principal: UserPrincipalDep, system_session: SystemSessionDep
) -> None:
    # Unscoped: revoking the other sessions touches refresh_tokens, not granted to tenants.
    await service.change_password(system_session, principal, body)


@router.post(
    "/switch-organisation",
    responses=error_responses(401, 403, 404),
    summary="Tokens for another organisation the caller belongs to",
)
async def switch_organisation(
    body: SwitchOrganisationRequest,
    request: Request,
    principal: UserPrincipalDep,
    system_session: SystemSessionDep,
    resources: ResourcesDep,
) -> TokenPair:
    return await service.switch_organisation(
        system_session,
        resources.settings.auth,
        principal,
        body.organisation_id,
        user_agent=_user_agent(request),
    )
