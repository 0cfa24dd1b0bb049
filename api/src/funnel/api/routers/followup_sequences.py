"""``/followup-sequences``: the nudges the bot sends when a lead goes quiet.

Each sequence is written whole (``PUT`` replaces name, trigger, active flag and every step); one
sequence per trigger is active, and activating one deactivates the others of its trigger. The
limits on how many nudges go out (per 24 hours, in total, minimum gap) and the quiet hours are
organisation settings (``/settings``).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from funnel.api.deps import ActorDep, AdminDep, SessionDep, ViewerDep
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, VIEWER, Access
from funnel.core.sequences import service
from funnel.core.sequences.schemas import SequenceRead, SequenceWrite

router = APIRouter(prefix="/followup-sequences", tags=["followup-sequences"])

PERMISSIONS: dict[str, Access] = {
    "GET /followup-sequences": VIEWER,
    "POST /followup-sequences": ADMIN,
    "GET /followup-sequences/{sequence_id}": VIEWER,
    "PUT /followup-sequences/{sequence_id}": ADMIN,
    "DELETE /followup-sequences/{sequence_id}": ADMIN,
}


@router.get("", responses=error_responses(401, 403), summary="Follow-up sequences")
async def list_sequences(session: SessionDep, _: ViewerDep) -> list[SequenceRead]:
    return await service.list_sequences(session)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
    summary="Create a follow-up sequence",
)
async def create_sequence(
    body: SequenceWrite, session: SessionDep, _: AdminDep, actor: ActorDep
) -> SequenceRead:
    return await service.create_sequence(session, actor, body)


@router.get(
    "/{sequence_id}", responses=error_responses(401, 403, 404), summary="One follow-up sequence"
)
async def get_sequence(sequence_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> SequenceRead:
    return await service.get_sequence(session, sequence_id)


@router.put(
    "/{sequence_id}",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Replace a follow-up sequence (its name, trigger, active flag and steps)",
)
async def replace_sequence(
    sequence_id: uuid.UUID, body: SequenceWrite, session: SessionDep, _: AdminDep, actor: ActorDep
) -> SequenceRead:
    return await service.replace_sequence(session, actor, sequence_id, body)


@router.delete(
    "/{sequence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Delete a follow-up sequence",
)
async def delete_sequence(
    sequence_id: uuid.UUID, session: SessionDep, _: AdminDep, actor: ActorDep
) -> None:
    await service.delete_sequence(session, actor, sequence_id)
