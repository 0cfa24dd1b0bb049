"""Receiver test helpers: settings for one test channel, and an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from funnel.core.settings import (
    Environment,
    Settings,
    SqsSettings,
    WhatsAppChannelConfig,
    WhatsAppSettings,
)
from funnel.receiver.app import create_app
from funnel.receiver.publisher import Publisher, PublishError
from tests.fixtures.whatsapp.corpus import TEST_APP_SECRET

PHONE_NUMBER_ID = "106540352242922"
ORGANISATION_ID = "org-test"
VERIFY_TOKEN = "channel-verify-token"
GLOBAL_VERIFY_TOKEN = "global-verify-token"


def receiver_settings(
    sqs: SqsSettings | None = None,
    *,
    secrets: Sequence[str] = (TEST_APP_SECRET,),
    extra_channels: Sequence[WhatsAppChannelConfig] = (),
    **overrides: Any,
) -> Settings:
    channel = WhatsAppChannelConfig(
        phone_number_id=PHONE_NUMBER_ID,
        app_secrets=[SecretStr(s) for s in secrets],
        verify_token=SecretStr(VERIFY_TOKEN),
        organisation_id=ORGANISATION_ID,
    )
    return Settings(
        environment=Environment.TEST,
        sqs=sqs or SqsSettings(queue_url="http://unused.invalid/queue"),
        whatsapp=WhatsAppSettings(
            channels=[channel, *extra_channels], verify_token=SecretStr(GLOBAL_VERIFY_TOKEN)
        ),
        **overrides,
    )


@asynccontextmanager
async def receiver_client(
    settings: Settings, publisher: Publisher | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and an httpx client speaking ASGI to it."""
    app = create_app(settings, publisher)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            yield client


class RecordingPublisher:
    """A publisher double for tests that are about HTTP behaviour, not SQS."""

    def __init__(self, fail: Callable[[str], bool] | None = None) -> None:
        self.published: list[str] = []
        self.dead_letters: list[str] = []
        self.started = False
        self._fail = fail

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def publish(self, body: str, *, dead_letter: bool = False) -> None:
        if self._fail is not None and self._fail(body):
            raise PublishError("refused by the test")
        (self.dead_letters if dead_letter else self.published).append(body)

    async def ready(self) -> bool:
        return self.started
