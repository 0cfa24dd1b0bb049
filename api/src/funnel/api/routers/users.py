"""``/users``: the organisation's members, invitations, roles and deactivation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from funnel.api.deps import (
    ActorDep,
    AdminDep,
    ResourcesDep,
    SessionDep,
    SystemSessionDep,
    ViewerDep,
)
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, VIEWER, Access, Level
from funnel.core.auth import service
from funnel.core.auth.schemas import (
    ChangeRoleRequest,
    InvitationCreated,
    InvitationRead,
    InviteRequest,
    MemberRead,
)

router = APIRouter(prefix="/users", tags=["users"])

PERMISSIONS: dict[str, Access] = {
    "GET /users": VIEWER,
    "GET /users/invitations": ADMIN,
    "POST /users/invitations": Access(
        Level.ADMIN, note="cannot invite above one's own role; the link is returned once"
    ),
    "DELETE /users/invitations/{invitation_id}": ADMIN,
    "GET /users/{user_id}": VIEWER,
    "PATCH /users/{user_id}/role": Access(
        Level.ADMIN,
        note="owner role managed by owners only; no raising one's own role; last owner kept",
    ),
    "POST /users/{user_id}/deactivate": Access(
        Level.ADMIN, note="not oneself, not above one's own role, not the last owner"
    ),
}


@router.get("", responses=error_responses(401, 403), summary="Members of the organisation")
async def list_users(session: SessionDep, _: ViewerDep) -> list[MemberRead]:
    return await service.list_members(session)


@router.get("/invitations", responses=error_responses(401, 403), summary="Open invitations")
async def list_invitations(session: SessionDep, _: AdminDep) -> list[InvitationRead]:
    return [InvitationRead.model_validate(i) for i in await service.list_invitations(session)]


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
    summary="Invite someone (returns the single-use accept token once)",
)
async def invite(
    body: InviteRequest,
    session: SessionDep,
    principal: AdminDep,
    actor: ActorDep,
    resources: ResourcesDep,
) -> InvitationCreated:
    return await service.invite(session, resources.settings.auth, principal, actor, body)


@router.delete(
    "/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Revoke an open invitation",
)
async def revoke_invitation(
    invitation_id: uuid.UUID, session: SessionDep, _: AdminDep, actor: ActorDep
) -> None:
    await service.revoke_invitation(session, actor, invitation_id)


@router.get("/{user_id}", responses=error_responses(401, 403, 404), summary="One member")
async def get_user(user_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> MemberRead:
    return await service.get_member(session, user_id)


@router.patch(
    "/{user_id}/role", responses=error_responses(401, 403, 404, 409), summary="Change a role"
)
async def change_role(
    user_id: uuid.UUID,
    body: ChangeRoleRequest,
    session: SessionDep,
    principal: AdminDep,
    actor: ActorDep,
) -> MemberRead:
    return await service.change_role(session, principal, actor, user_id, body)


@router.post(
    "/{user_id}/deactivate",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409),
    summary="Remove a member's access (and their sessions) at once",
)
async def deactivate(
    user_id: uuid.UUID,
    session: SessionDep,
    system_session: SystemSessionDep,
    principal: AdminDep,
    actor: ActorDep,
) -> None:
    await service.deactivate_member(session, system_session, principal, actor, user_id)
