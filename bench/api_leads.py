"""The REST leads page under load: 50 leads with filters (stage, opt-out), through the real
application, against one hand-written SQL query returning the same rows.

The dataset is :mod:`api_dataset`'s (20 organisations, 100,000 leads with stages spread over the
funnel, one conversation each, 1,000,000 messages, with ``COPY``).
``GET /leads?stage=qualification&opted_out=false&limit=50`` runs in process through the ASGI app
(authentication, row-level security, validation, the keyset query, JSON), each request for one of
the 20 organisations in turn, walking up to five pages by cursor; the baseline, interleaved with
it, is the same keyset page as one SQL statement on a plain asyncpg connection as the table owner
(no RLS, no ORM, no HTTP). Each iteration checks that both return the same leads.

    python bench/api_leads.py [--organisations 20] [--leads 100000] [--messages 1000000]
                              [--requests 400]

Uses ``FUNNEL_DATABASE__URL`` when set (a role that may create databases), else an embedded
PostgreSQL. Writes ``bench/results/api_leads.json``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager

from api_dataset import (
    PAGE,
    TARGET,
    load_average,
    print_table,
    register,
    row_counts,
    run_on_database,
    seed,
    settings_for,
    summary,
    write_results,
)
from funnel.api.app import create_app
from funnel.core.events.listener import asyncpg_dsn

FILTER = {"stage": "qualification", "opted_out": "false", "limit": str(PAGE)}
SQL_PAGE = (
    "SELECT id, channel_id, wa_id, bsuid, name, email, company, language, tags, stage,"
    " intent_level, sentiment, opted_out, opted_out_at, opt_out_source, last_inbound_at,"
    " attributes, facts, created_at, updated_at FROM leads"
    " WHERE organisation_id = $1 AND stage = 'qualification' AND opted_out = false"
    " AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))"
    " ORDER BY created_at DESC, id DESC LIMIT 51"
)


async def measure(
    url: str, organisations: int, leads: int, messages: int, requests: int, warmup: int
) -> dict[str, Any]:
    app = create_app(settings_for(url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            owners = [await register(client, i) for i in range(organisations)]
            seeded = await seed(url, [o for o, _ in owners], leads, messages)
            counts = await row_counts(url)
            connection = await asyncpg.connect(asyncpg_dsn(url))
            load_before = load_average()
            try:
                api_ms: list[float] = []
                #: The API's own CPU time per request (this process): less sensitive than the
                #: wall time to what else the machine runs.
                api_cpu_ms: list[float] = []
                sql_ms: list[float] = []
                cursors: dict[int, str | None] = {}
                positions: dict[int, tuple[Any, Any]] = {}
                for n in range(warmup + requests):
                    index = n % len(owners)
                    organisation_id, token = owners[index]
                    params = dict(FILTER)
                    if cursors.get(index):
                        params["cursor"] = str(cursors[index])
                    cpu_started = time.process_time()
                    started = time.perf_counter()
                    response = await client.get(
                        "/leads", params=params, headers={"Authorization": f"Bearer {token}"}
                    )
                    api_elapsed = (time.perf_counter() - started) * 1000
                    api_cpu = (time.process_time() - cpu_started) * 1000
                    response.raise_for_status()
                    page = response.json()
                    at, last_id = positions.get(index, (None, None))
                    started = time.perf_counter()
                    rows = await connection.fetch(SQL_PAGE, organisation_id, at, last_id)
                    sql_elapsed = (time.perf_counter() - started) * 1000
                    if not page["items"]:
                        raise RuntimeError("the filter matched nothing: seed more leads")
                    if [i["id"] for i in page["items"]] != [str(r["id"]) for r in rows[:PAGE]]:
                        raise RuntimeError("the API and the SQL baseline disagree")
                    # Walk five pages deep (or to the last page), then start again from the first.
                    deep = (n // len(owners)) % 5 == 4
                    cursors[index] = None if deep else page["next_cursor"]
                    positions[index] = (
                        (rows[PAGE - 1]["created_at"], rows[PAGE - 1]["id"])
                        if len(rows) > PAGE and not deep
                        else (None, None)
                    )
                    if n >= warmup:
                        api_ms.append(api_elapsed)
                        api_cpu_ms.append(api_cpu)
                        sql_ms.append(sql_elapsed)
            finally:
                await connection.close()
    api, sql = summary(api_ms), summary(sql_ms)
    return {
        "rows": counts,
        "seed_seconds": seeded,
        "requests_measured": len(api_ms),
        "page_size": PAGE,
        "ms": {"rest_leads_page": api, "hand_written_sql": sql},
        "api_cpu_ms": summary(api_cpu_ms),
        "ratio_p50": round(api["p50"] / sql["p50"], 2),
        "ratio_p99": round(api["p99"] / sql["p99"], 2),
        "load_average": {"before": load_before, "after": load_average()},
        "target": TARGET,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--organisations", type=int, default=20)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    args = parser.parse_args()
    results = run_on_database(
        "funnel_bench_leads",
        lambda url: measure(
            url, args.organisations, args.leads, args.messages, args.requests, args.warmup
        ),
    )
    ms = results["ms"]
    print_table(
        f"REST leads page, {PAGE} leads, stage and opt-out filters, keyset cursor "
        f"({results['rows']}; {results['requests_measured']} requests)",
        {
            "REST (ASGI, full app)": ms["rest_leads_page"],
            "  its CPU time": results["api_cpu_ms"],
            "SQL": ms["hand_written_sql"],
        },
        results,
    )
    out = write_results("api_leads", vars(args), results)
    print(f"wrote {out.relative_to(out.parents[2])}")


if __name__ == "__main__":
    main()
