"""``/templates``: message templates, validated locally, submitted to and synced with Meta."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from funnel.api.deps import ActorDep, ResourcesDep, SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.api.routers.settings import graph_factory
from funnel.core.auth.schemas import Principal
from funnel.core.models.enums import MembershipRole
from funnel.core.templates import service
from funnel.core.templates.schemas import SyncReport, TemplateCreate, TemplateRead, TemplateUpdate

router = APIRouter(prefix="/templates", tags=["templates"])

READ = Access(Level.VIEWER, api_key_scope="templates:read")
WRITE = Access(Level.ADMIN, api_key_scope="templates:write")
PERMISSIONS: dict[str, Access] = {
    "GET /templates": READ,
    "POST /templates": WRITE,
    "POST /templates/sync": Access(
        Level.ADMIN, api_key_scope="templates:write", note="statuses from Meta; imports others"
    ),
    "GET /templates/{template_id}": READ,
    "PATCH /templates/{template_id}": Access(
        Level.ADMIN,
        api_key_scope="templates:write",
        note="content only in draft, rejected or paused; purpose always",
    ),
    "POST /templates/{template_id}/submit": WRITE,
    "POST /templates/{template_id}/resubmit": Access(
        Level.ADMIN, api_key_scope="templates:write", note="a rejected one, after editing it"
    ),
    "DELETE /templates/{template_id}": Access(
        Level.ADMIN, api_key_scope="templates:write", note="an approved one needs confirm=true"
    ),
}

Reader = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER, scope="templates:read"))]
Writer = Annotated[Principal, Depends(require_role(MembershipRole.ADMIN, scope="templates:write"))]


@router.get("", responses=error_responses(401, 403), summary="Templates")
async def list_templates(session: SessionDep, _: Reader) -> list[TemplateRead]:
    return await service.list_templates(session)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
    summary="Create a draft (validated against Meta's limits)",
)
async def create_template(
    body: TemplateCreate, session: SessionDep, _: Writer, actor: ActorDep
) -> TemplateRead:
    return await service.create_template(session, actor, body)


@router.post(
    "/sync",
    responses=error_responses(401, 403, 409, 502),
    summary="Sync statuses with Meta now",
)
async def sync_templates(
    session: SessionDep, _: Writer, actor: ActorDep, resources: ResourcesDep
) -> SyncReport:
    return await service.sync_templates(
        session, actor, resources.secret_box, graph_factory(resources)
    )


@router.get("/{template_id}", responses=error_responses(401, 403, 404), summary="One template")
async def get_template(template_id: uuid.UUID, session: SessionDep, _: Reader) -> TemplateRead:
    return await service.get_template(session, template_id)


@router.patch(
    "/{template_id}",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Edit a template Meta allows to be edited",
)
async def update_template(
    template_id: uuid.UUID, body: TemplateUpdate, session: SessionDep, _: Writer, actor: ActorDep
) -> TemplateRead:
    return await service.update_template(session, actor, template_id, body)


@router.post(
    "/{template_id}/submit",
    responses=error_responses(401, 403, 404, 409, 502),
    summary="Submit a draft to Meta for review",
)
async def submit_template(
    template_id: uuid.UUID,
    session: SessionDep,
    _: Writer,
    actor: ActorDep,
    resources: ResourcesDep,
) -> TemplateRead:
    return await service.submit_template(
        session, actor, resources.secret_box, graph_factory(resources), template_id
    )


@router.post(
    "/{template_id}/resubmit",
    responses=error_responses(401, 403, 404, 409, 502),
    summary="Send a rejected template, edited since, back to Meta for review",
)
async def resubmit_template(
    template_id: uuid.UUID,
    session: SessionDep,
    _: Writer,
    actor: ActorDep,
    resources: ResourcesDep,
) -> TemplateRead:
    return await service.resubmit_template(
        session, actor, resources.secret_box, graph_factory(resources), template_id
    )


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 502),
    summary="Delete (on Meta too, once submitted)",
)
async def delete_template(
    template_id: uuid.UUID,
    session: SessionDep,
    _: Writer,
    actor: ActorDep,
    resources: ResourcesDep,
    confirm: Annotated[bool, Query(description="required for an approved template")] = False,
) -> None:
    await service.delete_template(
        session, actor, resources.secret_box, graph_factory(resources), template_id, confirm=confirm
    )
