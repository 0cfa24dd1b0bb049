"""Subscriptions: live updates for the caller's organisation, from any API replica.

Each subscription subscribes to the process's :class:`funnel.core.events.listener.EventHub`
filtered by the organisation taken from the connection's credentials; events from other
organisations never reach it. Payloads are ids: the client refetches what it shows.

To add one (``messageCreated``, ``attentionChanged``…), copy ``conversation_updated`` with
another :class:`EventType`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator

import strawberry

from funnel.api.graphql.context import Info
from funnel.api.graphql.permissions import IsAuthenticated
from funnel.core.auth.schemas import Principal
from funnel.core.events import Event, EventType

#: How often a long-lived subscription re-checks that its session is still valid (user active,
#: membership present, not logged out), so a deactivated user stops receiving events.
RECHECK_INTERVAL_S = 60.0


@strawberry.type
class LiveEvent:
    type: str
    conversation_id: strawberry.ID | None
    message_id: strawberry.ID | None
    lead_id: strawberry.ID | None

    @classmethod
    def from_event(cls, event: Event) -> LiveEvent:
        def pick(key: str) -> strawberry.ID | None:
            value = event.ids.get(key)
            return strawberry.ID(str(value)) if isinstance(value, str) else None

        return cls(
            type=event.type.value,
            conversation_id=pick("conversation_id"),
            message_id=pick("message_id"),
            lead_id=pick("lead_id"),
        )


async def _still_valid(info: Info) -> bool:
    credentials = info.context.credentials
    if credentials is None:
        return True
    from funnel.api.deps import authenticate
    from funnel.core.errors import FunnelError

    async with info.context.resources.sessionmaker() as session:
        try:
            principal: Principal = await authenticate(session, info.context.resources, credentials)
        except FunnelError:
            return False
        finally:
            await session.rollback()
    return principal.organisation_id == info.context.require_principal().organisation_id


async def stream(
    info: Info, types: list[EventType], conversation_id: uuid.UUID | None = None
) -> AsyncGenerator[Event, None]:
    principal = info.context.require_principal()
    subscription = info.context.resources.events.subscribe(principal.organisation_id, types)
    try:
        while True:
            try:
                event = await asyncio.wait_for(subscription.get(), timeout=RECHECK_INTERVAL_S)
            except TimeoutError:
                if not await _still_valid(info):
                    return
                continue
            if conversation_id is not None and event.ids.get("conversation_id") != str(
                conversation_id
            ):
                continue
            yield event
    finally:
        subscription.close()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Conversations of the caller's organisation changed (optionally one).",
    )
    async def conversation_updated(
        self, info: Info, conversation_id: strawberry.ID | None = None
    ) -> AsyncGenerator[LiveEvent, None]:
        wanted: uuid.UUID | None = None
        if conversation_id is not None:
            try:
                wanted = uuid.UUID(str(conversation_id))
            except ValueError:
                # Not an id: nothing can ever match, so end rather than widen to every event.
                return
        async for event in stream(info, [EventType.CONVERSATION_UPDATED], wanted):
            yield LiveEvent.from_event(event)
