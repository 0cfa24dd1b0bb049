from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.auth.repository import ScopedRepository
from funnel.core.models import WhatsAppChannel


class ChannelRepository(ScopedRepository[WhatsAppChannel]):
    model = WhatsAppChannel

    async def list(self) -> Sequence[WhatsAppChannel]:
        return await self.get_all(
            self.get_base_statement().order_by(WhatsAppChannel.created_at, WhatsAppChannel.id)
        )

    async def get_by_phone_number_id(self, phone_number_id: str) -> WhatsAppChannel | None:
        return await self.get_one_or_none(
            self.get_base_statement().where(WhatsAppChannel.phone_number_id == phone_number_id)
        )


async def all_channels(system_session: AsyncSession) -> Sequence[WhatsAppChannel]:
    """Every tenant's channels, for ``/internals``. Unscoped session only."""
    result = await system_session.scalars(
        sa.select(WhatsAppChannel).order_by(WhatsAppChannel.phone_number_id)
    )
    return result.all()
