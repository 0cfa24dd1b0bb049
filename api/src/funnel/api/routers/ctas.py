"""``/ctas``: the calls to action the bot may offer."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from funnel.api.deps import ActorDep, AdminDep, SessionDep, ViewerDep
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, VIEWER, Access, Level
from funnel.core.ctas import service
from funnel.core.ctas.schemas import CtaCreate, CtaRead, CtaUpdate

router = APIRouter(prefix="/ctas", tags=["ctas"])

PERMISSIONS: dict[str, Access] = {
    "GET /ctas": VIEWER,
    "POST /ctas": ADMIN,
    "GET /ctas/{cta_id}": VIEWER,
    "PATCH /ctas/{cta_id}": ADMIN,
    "DELETE /ctas/{cta_id}": Access(
        Level.ADMIN, note="soft delete: conversations keep their history"
    ),
}


@router.get("", responses=error_responses(401, 403), summary="CTAs")
async def list_ctas(session: SessionDep, _: ViewerDep) -> list[CtaRead]:
    return await service.list_ctas(session)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
    summary="Create a CTA",
)
async def create_cta(body: CtaCreate, session: SessionDep, _: AdminDep, actor: ActorDep) -> CtaRead:
    return await service.create_cta(session, actor, body)


@router.get("/{cta_id}", responses=error_responses(401, 403, 404), summary="One CTA")
async def get_cta(cta_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> CtaRead:
    return await service.get_cta(session, cta_id)


@router.patch(
    "/{cta_id}", responses=error_responses(401, 403, 404, 409, 422), summary="Change a CTA"
)
async def update_cta(
    cta_id: uuid.UUID, body: CtaUpdate, session: SessionDep, _: AdminDep, actor: ActorDep
) -> CtaRead:
    return await service.update_cta(session, actor, cta_id, body)


@router.delete(
    "/{cta_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Delete a CTA (soft)",
)
async def delete_cta(cta_id: uuid.UUID, session: SessionDep, _: AdminDep, actor: ActorDep) -> None:
    await service.delete_cta(session, actor, cta_id)
