"""Which organisation and channel an inbound event belongs to.

Routing happens before the session can be scoped (the organisation is what we are looking for),
so this is one of the few system-level reads: by ``phone_number_id``, which is unique across
tenants. Results are cached for a short while: every event of a busy number would otherwise pay
for the same lookup, which the original system did over HTTP for every message.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funnel.core.models import Organisation, WhatsAppChannel


@dataclass(frozen=True, slots=True)
class ChannelRef:
    id: uuid.UUID
    organisation_id: uuid.UUID
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    graph_version: str
    messages_per_second: int
    is_connected: bool
    paused: bool
    organisation_active: bool


class UnknownChannel(LookupError):
    """No channel has this phone number id: the event cannot be routed (a permanent error)."""


class ChannelDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], ttl_s: float = 30.0) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, ChannelRef]] = {}

    def invalidate(self, phone_number_id: str | None = None) -> None:
        if phone_number_id is None:
            self._cache.clear()
        else:
            self._cache.pop(phone_number_id, None)

    async def by_phone_number_id(self, phone_number_id: str) -> ChannelRef:
        cached = self._cache.get(phone_number_id)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._sessions() as session:
            ref = await load_channel(session, phone_number_id)
        self._cache[phone_number_id] = (now + self._ttl_s, ref)
        return ref


async def load_channel(session: AsyncSession, phone_number_id: str) -> ChannelRef:
    row = (
        await session.execute(
            sa.select(WhatsAppChannel, Organisation.is_active)
            .join(Organisation, Organisation.id == WhatsAppChannel.organisation_id)
            .where(WhatsAppChannel.phone_number_id == phone_number_id)
        )
    ).one_or_none()
    if row is None:
        raise UnknownChannel(f"no channel for phone_number_id {phone_number_id}")
    channel, organisation_active = row
    return ChannelRef(
        id=channel.id,
        organisation_id=channel.organisation_id,
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        display_phone_number=channel.display_phone_number,
        graph_version=channel.graph_version,
        messages_per_second=channel.messages_per_second,
        is_connected=channel.is_connected,
        paused=channel.paused_at is not None,
        organisation_active=bool(organisation_active),
    )
