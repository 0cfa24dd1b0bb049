"""What one API process holds for its lifetime, built in the app's lifespan."""

from __future__ import annotations

import dataclasses

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from funnel.core.auth.throttle import LoginThrottle
from funnel.core.events.listener import EventHub
from funnel.core.security.crypto import SecretBox
from funnel.core.settings import Settings


@dataclasses.dataclass(slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    #: Shared by every outbound Graph API call (the channel connect check); tokens go per request.
    http: httpx.AsyncClient
    secret_box: SecretBox
    throttle: LoginThrottle
    events: EventHub
