"""``/debug``: dry-run the pipeline on a text for the caller's organisation.

Admins only, and absent in production (404, as if the route did not exist). Nothing is stored.
"""

from __future__ import annotations

from fastapi import APIRouter

from funnel.api.deps import AdminDep, ResourcesDep, SessionDep
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.core.errors import NotFound
from funnel.core.llm.factory import build_llm_client
from funnel.core.organisations.dry_run import DryRunRequest, DryRunResult, dry_run
from funnel.core.organisations.simulator import SimulateRequest, SimulateResult, simulate_inbound
from funnel.core.settings import Environment
from funnel.core.telemetry import correlation_id, new_correlation_id
from funnel.core.turns.htl_pipeline import HtlPipeline

router = APIRouter(prefix="/debug", tags=["debug"])

#: Not mounted in production (see :func:`funnel.api.routers.discover`).
IN_PRODUCTION = False

PERMISSIONS: dict[str, Access] = {
    "POST /debug/dry-run": Access(Level.ADMIN, note="404 in production; nothing persisted"),
    "POST /debug/simulate": Access(
        Level.ADMIN, note="local environments only: a signed webhook on the sandbox channel"
    ),
}


@router.post(
    "/dry-run",
    responses=error_responses(401, 403, 404, 422),
    summary="Run Eyes, Brain and Mouth on a text without storing anything",
)
async def dry_run_pipeline(
    body: DryRunRequest, session: SessionDep, principal: AdminDep, resources: ResourcesDep
) -> DryRunResult:
    settings = resources.settings
    if settings.environment is Environment.PRODUCTION:
        raise NotFound("not found")
    pipeline = HtlPipeline(build_llm_client(settings), settings=settings)
    return await dry_run(
        session,
        principal.organisation,
        pipeline,
        body,
        correlation_id=correlation_id() or new_correlation_id(),
    )


@router.post(
    "/simulate",
    status_code=202,
    responses=error_responses(401, 403, 404, 409, 422, 502),
    summary="Send a message as a simulated customer on the sandbox channel (local only)",
)
async def simulate_customer_message(
    body: SimulateRequest, session: SessionDep, _: AdminDep, resources: ResourcesDep
) -> SimulateResult:
    return await simulate_inbound(
        session, resources.settings, resources.secret_box, resources.http, body
    )
