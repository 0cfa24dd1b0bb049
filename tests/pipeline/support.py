"""Helpers for worker tests: a deterministic pipeline, webhook builders, and a running worker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.core.contracts.events import InboundEvent
from funnel.core.models.enums import OutboxKind
from funnel.core.settings import (
    AuthSettings,
    DatabaseSettings,
    KafkaSettings,
    Settings,
    WhatsAppSettings,
    WorkerSettings,
)
from funnel.core.turns.contract import OutboundReply, Turn, TurnResult
from funnel.core.whatsapp.webhook import split_events
from funnel.pipeline.worker.app import WorkerApp
from tests.core.sandbox.support import RunningSandbox
from tests.factories import TEST_ENCRYPTION_KEY

_wamids = itertools.count(1)


class EchoPipeline:
    """The data plane's test pipeline: one reply per turn naming every message it answers, in
    the order the worker handed them over, after an optional think time."""

    def __init__(self, think_s: float = 0.0) -> None:
        self.think_s = think_s
        self.turns: list[Turn] = []

    async def run_turn(self, turn: Turn) -> TurnResult:
        self.turns.append(turn)
        if self.think_s:
            await asyncio.sleep(self.think_s)
        texts = [m.text or f"[{m.type.value}]" for m in turn.new_messages]
        body = "echo: " + " | ".join(texts)
        return TurnResult(
            provider="test",
            is_offline=True,
            replies=(
                OutboundReply(
                    kind=OutboxKind.MESSAGE,
                    message={"type": "text", "text": {"body": body, "preview_url": False}},
                    preview=body,
                ),
            ),
            decision={"action": "respond"},
        )


def text_webhook(
    *,
    phone_number_id: str,
    waba_id: str,
    wa_id: str,
    text: str,
    timestamp: int,
    wamid: str | None = None,
    name: str = "Customer",
) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid or f"wamid.TEST{next(_wamids):012d}",
                                    "timestamp": str(timestamp),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def status_webhook(
    *,
    phone_number_id: str,
    waba_id: str,
    wa_id: str,
    wamid: str,
    status: str,
    timestamp: int,
    error_code: int | None = None,
    callback: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": wa_id,
    }
    if callback:
        item["biz_opaque_callback_data"] = callback
    if error_code is not None:
        item["errors"] = [{"code": error_code, "title": "error", "message": "error"}]
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": [item],
                        },
                    }
                ],
            }
        ],
    }


def events_of(payload: dict[str, Any], organisation_id: uuid.UUID) -> list[InboundEvent]:
    return [
        InboundEvent.from_webhook_event(
            e, organisation_id=str(organisation_id), correlation_id=uuid.uuid4().hex
        )
        for e in split_events(payload)
    ]


async def produce(bootstrap: str, topic: str, events: Sequence[InboundEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=e.encode(), key=e.key_bytes(), headers=e.headers())
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def worker_settings(
    *,
    database_url: str,
    kafka: KafkaSettings,
    graph_base_url: str,
    debounce_s: float = 0.05,
    **worker: Any,
) -> Settings:
    return Settings(
        environment="test",  # type: ignore[arg-type]
        database=DatabaseSettings(url=SecretStr(database_url), pool_size=10, max_overflow=20),
        kafka=kafka,
        whatsapp=WhatsAppSettings(graph_base_url=graph_base_url, request_timeout_s=5),
        auth=AuthSettings(encryption_keys=[SecretStr(TEST_ENCRYPTION_KEY)]),
        worker=WorkerSettings(
            debounce_s=debounce_s,
            max_debounce_s=max(debounce_s * 4, 0.2),
            event_retry_base_s=0.05,
            sender_poll_s=0.05,
            pair_interval_s=0.001,
            pair_burst=1000,
            drain_timeout_s=10,
            **worker,
        ),
    )


@dataclass
class RunningWorker:
    app: WorkerApp
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, pipeline: Any) -> AsyncIterator[RunningWorker]:
    app = WorkerApp(settings, pipeline)
    task = asyncio.create_task(app.run())
    try:
        async with asyncio.timeout(30):
            await app.ready.wait()
        yield RunningWorker(app, task)
    finally:
        app.stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await task


async def wait_for(
    predicate: Any, *, equals: Any = True, timeout_s: float = 30.0, what: str = "condition"
) -> None:
    """Poll ``predicate()`` (sync or async) until its value is truthy, or equals ``equals``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if (equals is True and result) or (equals is not True and result == equals):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def epoch(offset_s: int = 0) -> int:
    return int(dt.datetime.now(dt.UTC).timestamp()) + offset_s


@dataclass
class World:
    settings: Settings
    engine: AsyncEngine
    sandbox: RunningSandbox
    organisation_id: uuid.UUID
    phone_number_id: str
    waba_id: str
    topic: str
    bootstrap: str

    def text(self, wa_id: str, text: str, ts: int, wamid: str | None = None) -> dict[str, Any]:
        return text_webhook(
            phone_number_id=self.phone_number_id,
            waba_id=self.waba_id,
            wa_id=wa_id,
            text=text,
            timestamp=ts,
            wamid=wamid,
        )

    async def publish(self, *payloads: dict[str, Any]) -> None:
        events = [e for p in payloads for e in events_of(p, self.organisation_id)]
        await produce(self.bootstrap, self.topic, events)

    def replies_to(self, wa_id: str) -> list[str]:
        return [
            r.body["text"]["body"]
            for r in list(self.sandbox.state.sent)
            if r.kind == "message" and r.to == wa_id and r.status == "accepted"
        ]


async def scalar(engine: AsyncEngine, statement: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(statement)).scalar()
