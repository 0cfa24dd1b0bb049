"""``/internals``: what other Funnel components need from the API, and nothing more.

Service token only (``Authorization: Bearer <FUNNEL_AUTH__SERVICE_TOKEN>`` or
``X-Service-Token``), compared in constant time. Read-only, and no secret is ever returned: the
original served decrypted WhatsApp tokens here. Components that need secrets get them from their
own configuration (the receiver's channel Secret), and use ``config_hash`` to notice a change.
"""

from __future__ import annotations

from fastapi import APIRouter

from funnel.api.deps import ServiceDep, SystemSessionDep
from funnel.api.errors import error_responses
from funnel.api.permissions import SERVICE, Access
from funnel.core.channels import service as channels
from funnel.core.channels.schemas import InternalChannelList

router = APIRouter(prefix="/internals", tags=["internals"])

PERMISSIONS: dict[str, Access] = {
    "GET /internals/channels": SERVICE,
}


@router.get(
    "/channels",
    responses=error_responses(401),
    summary="Every channel: routing facts and a configuration fingerprint (no secrets)",
)
async def list_channels(_: ServiceDep, system_session: SystemSessionDep) -> InternalChannelList:
    return await channels.internal_channels(system_session)
