"""The dashboard's "try it" simulator: a message from a simulated customer on the
organisation's sandbox channel, signed and posted to the local receiver like Meta's own
webhooks (:mod:`funnel.core.organisations.simulator`; REST: ``POST /debug/simulate``). Admins
only, and only where a sandbox exists (a local environment): elsewhere ``NotFoundError``."""

from __future__ import annotations

from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql._common import ADMIN
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    LimitError,
    NotFoundError,
    UpstreamError,
    expected_failure,
    limit_error,
    upstream_error,
)
from funnel.core.errors import FunnelError, UpstreamFailed
from funnel.core.organisations.simulator import (
    DEFAULT_CUSTOMER,
    SimulateRequest,
    conversation_of,
    simulate_inbound,
)

#: How long ``SimulatedMessage.conversationId`` waits for the worker to store the message.
CONVERSATION_WAIT_S = 15.0


@strawberry.type
class SimulatedMessage:
    #: The message's WhatsApp id; the conversation shows it once the worker has taken it.
    wamid: str
    channel_id: strawberry.ID

    @strawberry.field(
        description=(
            "The conversation the message landed in. Asking for it waits (up to 15 s) until the "
            "worker has stored the message; null if it has not by then."
        )
    )
    async def conversation_id(self, info: Info) -> strawberry.ID | None:
        found = await conversation_of(info.context.session, self.wamid, wait_s=CONVERSATION_WAIT_S)
        return strawberry.ID(str(found)) if found is not None else None


SimulateResult = Annotated[
    SimulatedMessage | LimitError | NotFoundError | ConflictError | UpstreamError | ForbiddenError,
    strawberry.union("SimulateCustomerMessageResult"),
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description=(
            "Send a text as a simulated customer on the sandbox channel; the bot answers through "
            "the real pipeline. Local environments only."
        ),
    )
    async def simulate_customer_message(
        self,
        info: Info,
        text: str,
        from_wa_id: str = DEFAULT_CUSTOMER,
        name: str | None = "Test customer",
    ) -> SimulateResult:
        try:
            request = SimulateRequest(text=text, from_wa_id=from_wa_id, name=name)
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        resources = info.context.resources
        try:
            result = await simulate_inbound(
                info.context.session,
                resources.settings,
                resources.secret_box,
                resources.http,
                request,
            )
        except UpstreamFailed as exc:
            info.context.failed = True
            return upstream_error(exc)
        except FunnelError as exc:
            info.context.failed = True
            failure = expected_failure(exc)
            assert isinstance(failure, NotFoundError | ConflictError | ForbiddenError), failure
            return failure
        return SimulatedMessage(wamid=result.wamid, channel_id=strawberry.ID(result.channel_id))
