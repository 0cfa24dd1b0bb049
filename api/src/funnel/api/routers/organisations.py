"""``/organisations``: one's own organisation, and the platform operator's listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from funnel.api.deps import (
    ActorDep,
    AdminDep,
    PlatformAdminDep,
    SessionDep,
    SystemSessionDep,
    ViewerDep,
)
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, PLATFORM_ADMIN, VIEWER, Access
from funnel.core.organisations import service
from funnel.core.organisations.schemas import OrganisationPage, OrganisationRead, OrganisationUpdate

router = APIRouter(prefix="/organisations", tags=["organisations"])

PERMISSIONS: dict[str, Access] = {
    "GET /organisations": PLATFORM_ADMIN,
    "GET /organisations/current": VIEWER,
    "PATCH /organisations/current": ADMIN,
}


@router.get(
    "",
    responses=error_responses(401, 403, 422),
    summary="Every organisation (platform administrators)",
)
async def list_organisations(
    _: PlatformAdminDep,
    system_session: SystemSessionDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrganisationPage:
    return await service.list_all(system_session, cursor=cursor, limit=limit)


@router.get("/current", responses=error_responses(401, 403), summary="The caller's organisation")
async def get_current(session: SessionDep, _: ViewerDep) -> OrganisationRead:
    return OrganisationRead.model_validate(await service.get_own(session))


@router.patch(
    "/current", responses=error_responses(401, 403, 422), summary="Update the organisation"
)
async def update_current(
    body: OrganisationUpdate, session: SessionDep, _: AdminDep, actor: ActorDep
) -> OrganisationRead:
    return await service.update_own(session, actor, body)
