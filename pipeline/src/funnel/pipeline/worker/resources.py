"""Everything the worker's handlers share, built once from settings: the resources part of the
worker skeleton (resources, streams, handlers, app)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.inbound.channels import ChannelDirectory, ChannelRef
from funnel.core.models import WhatsAppChannel
from funnel.core.security.crypto import SecretBox
from funnel.core.settings import Settings
from funnel.core.turns.contract import Pipeline
from funnel.core.whatsapp.graph import GraphClient, HttpGraphClient
from funnel.core.whatsapp.http import graph_http_client
from funnel.core.whatsapp.ratelimit import ChannelLimiter, PairRatePacer

#: How long a decrypted channel token is kept in memory before it is read again (a reconnect
#: with a new token takes effect within this).
CREDENTIALS_TTL_S = 60.0


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    channels: ChannelDirectory
    http: httpx.AsyncClient
    secrets: SecretBox
    pipeline: Pipeline
    dead_letters: AIOKafkaProducer | None
    limiter: ChannelLimiter
    pacer: PairRatePacer
    _tokens: dict[uuid.UUID, tuple[float, str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        settings: Settings,
        pipeline: Pipeline,
        *,
        dead_letters: AIOKafkaProducer | None = None,
    ) -> Resources:
        # No ping per checkout (a round trip per transaction, ~10 per turn): every worker
        # transaction that hits a dropped connection is retried (handlers, sender, scheduler),
        # and the invalidated connection is replaced then.
        engine = create_engine(settings.database, application_name="funnel-worker", pre_ping=False)
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            channels=ChannelDirectory(sessions),
            http=graph_http_client(settings.whatsapp),
            secrets=SecretBox.from_settings(settings.auth),
            pipeline=pipeline,
            dead_letters=dead_letters,
            limiter=ChannelLimiter(default_rate=settings.whatsapp.default_throughput_mps),
            pacer=PairRatePacer(
                interval_s=settings.worker.pair_interval_s, burst=settings.worker.pair_burst
            ),
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()

    async def access_token(self, channel_id: uuid.UUID) -> str:
        cached = self._tokens.get(channel_id)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self.sessions() as session:
            encrypted = (
                await session.execute(
                    sa.select(WhatsAppChannel.access_token_encrypted).where(
                        WhatsAppChannel.id == channel_id
                    )
                )
            ).scalar_one()
        token = self.secrets.decrypt(encrypted)
        self._tokens[channel_id] = (now + CREDENTIALS_TTL_S, token)
        return token

    def forget_token(self, channel_id: uuid.UUID) -> None:
        self._tokens.pop(channel_id, None)

    async def graph(self, channel: ChannelRef) -> GraphClient:
        return self.graph_for(
            token=await self.access_token(channel.id),
            phone_number_id=channel.phone_number_id,
            waba_id=channel.waba_id,
        )

    def graph_for(
        self, *, token: str, phone_number_id: str, waba_id: str | None
    ) -> HttpGraphClient:
        return HttpGraphClient.from_settings(
            self.settings.whatsapp,
            self.http,
            token=token,
            phone_number_id=phone_number_id,
            waba_id=waba_id,
        )
