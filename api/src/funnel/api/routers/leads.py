"""``/leads``: the organisation's contacts: list, search, edit, tags, notes, CSV, GDPR."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from fastapi.responses import StreamingResponse

from funnel.api.deps import ActorDep, ResourcesDep, SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, Access, Level
from funnel.core.auth.schemas import Principal
from funnel.core.leads import service
from funnel.core.leads.schemas import (
    EraseReport,
    ImportReport,
    LeadFilters,
    LeadPage,
    LeadRead,
    LeadUpdate,
    NoteCreate,
    NoteRead,
    TagsChange,
)
from funnel.core.models.enums import ConversationStage, IntentLevel, MembershipRole, Sentiment

router = APIRouter(prefix="/leads", tags=["leads"])

READ = Access(Level.VIEWER, api_key_scope="leads:read")
WRITE = Access(Level.AGENT, api_key_scope="leads:write")
PERMISSIONS: dict[str, Access] = {
    "GET /leads": READ,
    "GET /leads/export.csv": Access(Level.ADMIN, note="bulk personal data: admins only"),
    "POST /leads/import": Access(Level.ADMIN, api_key_scope="leads:write"),
    "GET /leads/{lead_id}": READ,
    "PATCH /leads/{lead_id}": WRITE,
    "POST /leads/{lead_id}/tags": WRITE,
    "POST /leads/{lead_id}/tags/remove": WRITE,
    "GET /leads/{lead_id}/notes": READ,
    "POST /leads/{lead_id}/notes": Access(Level.AGENT, note="the author is the caller"),
    "GET /leads/{lead_id}/gdpr-export": ADMIN,
    "DELETE /leads/{lead_id}": Access(
        Level.ADMIN, note="GDPR erasure: the lead and everything derived from it, audited"
    ),
}

Reader = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER, scope="leads:read"))]
Writer = Annotated[Principal, Depends(require_role(MembershipRole.AGENT, scope="leads:write"))]
Agent = Annotated[Principal, Depends(require_role(MembershipRole.AGENT))]
Admin = Annotated[Principal, Depends(require_role(MembershipRole.ADMIN))]
Importer = Annotated[Principal, Depends(require_role(MembershipRole.ADMIN, scope="leads:write"))]


async def lead_filters(
    stage: ConversationStage | None = None,
    intent_level: IntentLevel | None = None,
    sentiment: Sentiment | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    opted_out: bool | None = None,
    created_from: Annotated[
        dt.datetime | None, Query(description="inclusive, ISO 8601 with an offset")
    ] = None,
    created_to: Annotated[dt.datetime | None, Query(description="exclusive")] = None,
    search: Annotated[
        str | None, Query(min_length=1, max_length=100, description="name, phone or email")
    ] = None,
) -> LeadFilters:
    return LeadFilters(
        stage=stage,
        intent_level=intent_level,
        sentiment=sentiment,
        tag=tag,
        opted_out=opted_out,
        created_from=created_from,
        created_to=created_to,
        search=search,
    )


FiltersDep = Annotated[LeadFilters, Depends(lead_filters)]


@router.get("", responses=error_responses(401, 403, 422), summary="Leads, newest first")
async def list_leads(
    session: SessionDep,
    _: Reader,
    filters: FiltersDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = 50,
) -> LeadPage:
    return await service.list_leads(session, filters, cursor=cursor, limit=limit)


@router.get(
    "/export.csv",
    responses={**error_responses(401, 403), 200: {"content": {"text/csv": {}}}},
    response_class=StreamingResponse,
    summary="The filtered leads as CSV, streamed",
)
async def export_leads(
    principal: Admin, resources: ResourcesDep, filters: FiltersDep
) -> StreamingResponse:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    return StreamingResponse(
        service.export_csv(resources.sessionmaker, principal.organisation_id, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )


@router.post(
    "/import",
    responses=error_responses(401, 403, 404, 422),
    summary="Create or update leads from CSV (all or nothing)",
)
async def import_leads(
    session: SessionDep,
    _: Importer,
    actor: ActorDep,
    file: Annotated[
        UploadFile, File(description="CSV: wa_id, name, email, company, language, tags")
    ],
    channel_id: Annotated[uuid.UUID | None, Query()] = None,
) -> ImportReport:
    data = await file.read(service.IMPORT_MAX_BYTES + 1)
    return await service.import_csv(session, actor, data, channel_id)


@router.get("/{lead_id}", responses=error_responses(401, 403, 404), summary="One lead")
async def get_lead(lead_id: uuid.UUID, session: SessionDep, _: Reader) -> LeadRead:
    return await service.get_lead(session, lead_id)


@router.patch(
    "/{lead_id}", responses=error_responses(401, 403, 404, 422), summary="Change some fields"
)
async def update_lead(
    lead_id: uuid.UUID, body: LeadUpdate, session: SessionDep, _: Writer, actor: ActorDep
) -> LeadRead:
    return await service.update_lead(session, actor, lead_id, body)


@router.post("/{lead_id}/tags", responses=error_responses(401, 403, 404, 422), summary="Add tags")
async def add_tags(
    lead_id: uuid.UUID, body: TagsChange, session: SessionDep, _: Writer
) -> LeadRead:
    return await service.add_tags(session, lead_id, body.tags)


@router.post(
    "/{lead_id}/tags/remove", responses=error_responses(401, 403, 404, 422), summary="Remove tags"
)
async def remove_tags(
    lead_id: uuid.UUID, body: TagsChange, session: SessionDep, _: Writer
) -> LeadRead:
    return await service.remove_tags(session, lead_id, body.tags)


@router.get("/{lead_id}/notes", responses=error_responses(401, 403, 404), summary="Notes")
async def list_notes(lead_id: uuid.UUID, session: SessionDep, _: Reader) -> list[NoteRead]:
    return await service.list_notes(session, lead_id)


@router.post(
    "/{lead_id}/notes",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404),
    summary="Add a note",
)
async def add_note(
    lead_id: uuid.UUID, body: NoteCreate, session: SessionDep, principal: Agent
) -> NoteRead:
    author = principal.user.id if principal.user is not None else None
    return await service.add_note(session, lead_id, author, body)


@router.get(
    "/{lead_id}/gdpr-export",
    responses=error_responses(401, 403, 404),
    summary="Everything stored about the lead (data subject access request)",
)
async def gdpr_export(lead_id: uuid.UUID, session: SessionDep, _: Admin) -> dict[str, Any]:
    return await service.gdpr_export(session, lead_id)


@router.delete(
    "/{lead_id}",
    responses=error_responses(401, 403, 404),
    summary="Erase the lead and everything derived from it (GDPR)",
)
async def erase_lead(
    lead_id: uuid.UUID, session: SessionDep, _: Admin, actor: ActorDep
) -> EraseReport:
    return await service.erase_lead(session, actor, lead_id)
