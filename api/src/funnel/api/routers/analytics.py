"""``/analytics``: funnel, response times, handoffs, CTA and follow-up effect, LLM cost, series."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from funnel.api.deps import SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.core.analytics import service
from funnel.core.analytics.schemas import Analytics
from funnel.core.auth.schemas import Principal
from funnel.core.models.enums import MembershipRole

router = APIRouter(prefix="/analytics", tags=["analytics"])

PERMISSIONS: dict[str, Access] = {
    "GET /analytics": Access(Level.VIEWER, api_key_scope="analytics:read"),
}

Reader = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER, scope="analytics:read"))]


@router.get(
    "",
    responses=error_responses(401, 403, 422),
    summary="Analytics; dates are whole days in the organisation's timezone (default: 7 days)",
)
async def get_analytics(
    session: SessionDep,
    _: Reader,
    date_from: Annotated[dt.date | None, Query()] = None,
    date_to: Annotated[dt.date | None, Query(description="inclusive")] = None,
    timezone: Annotated[
        str | None,
        Query(max_length=64, description="IANA name; default: the organisation's timezone"),
    ] = None,
) -> Analytics:
    return await service.analytics(session, date_from, date_to, timezone)
