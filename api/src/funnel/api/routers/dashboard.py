"""``/dashboard``: KPIs for a date range in the organisation's timezone."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from funnel.api.deps import SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.core.auth.schemas import Principal
from funnel.core.dashboard import service
from funnel.core.dashboard.schemas import Dashboard
from funnel.core.models.enums import MembershipRole

router = APIRouter(prefix="/dashboard", tags=["dashboard"])

PERMISSIONS: dict[str, Access] = {
    "GET /dashboard": Access(Level.VIEWER, api_key_scope="analytics:read"),
}

Reader = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER, scope="analytics:read"))]


@router.get(
    "",
    responses=error_responses(401, 403, 422),
    summary="KPIs; dates are whole days in the organisation's timezone (default: last 7 days)",
)
async def get_dashboard(
    session: SessionDep,
    _: Reader,
    date_from: Annotated[dt.date | None, Query()] = None,
    date_to: Annotated[dt.date | None, Query(description="inclusive")] = None,
    timezone: Annotated[
        str | None,
        Query(max_length=64, description="IANA name; default: the organisation's timezone"),
    ] = None,
) -> Dashboard:
    return await service.dashboard(session, date_from, date_to, timezone)
