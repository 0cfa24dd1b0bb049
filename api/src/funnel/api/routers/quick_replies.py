"""``/quick-replies``: saved replies agents insert from the composer; admins manage them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from funnel.api.deps import ActorDep, AdminDep, SessionDep, ViewerDep
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, VIEWER, Access
from funnel.core.quick_replies import service
from funnel.core.quick_replies.schemas import QuickReplyCreate, QuickReplyRead, QuickReplyUpdate

router = APIRouter(prefix="/quick-replies", tags=["quick replies"])

PERMISSIONS: dict[str, Access] = {
    "GET /quick-replies": VIEWER,
    "POST /quick-replies": ADMIN,
    "GET /quick-replies/{quick_reply_id}": VIEWER,
    "PATCH /quick-replies/{quick_reply_id}": ADMIN,
    "DELETE /quick-replies/{quick_reply_id}": ADMIN,
}


@router.get("", responses=error_responses(401, 403), summary="Quick replies by title")
async def list_quick_replies(session: SessionDep, _: ViewerDep) -> list[QuickReplyRead]:
    return await service.list_quick_replies(session)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
    summary="Create a quick reply",
)
async def create_quick_reply(
    body: QuickReplyCreate, session: SessionDep, _: AdminDep, actor: ActorDep
) -> QuickReplyRead:
    return await service.create_quick_reply(session, actor, body)


@router.get(
    "/{quick_reply_id}", responses=error_responses(401, 403, 404), summary="One quick reply"
)
async def get_quick_reply(
    quick_reply_id: uuid.UUID, session: SessionDep, _: ViewerDep
) -> QuickReplyRead:
    return await service.get_quick_reply(session, quick_reply_id)


@router.patch(
    "/{quick_reply_id}",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Change a quick reply's title or text",
)
async def update_quick_reply(
    quick_reply_id: uuid.UUID,
    body: QuickReplyUpdate,
    session: SessionDep,
    _: AdminDep,
    actor: ActorDep,
) -> QuickReplyRead:
    return await service.update_quick_reply(session, actor, quick_reply_id, body)


@router.delete(
    "/{quick_reply_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Delete a quick reply",
)
async def delete_quick_reply(
    quick_reply_id: uuid.UUID, session: SessionDep, _: AdminDep, actor: ActorDep
) -> None:
    await service.delete_quick_reply(session, actor, quick_reply_id)
