"""The GraphQL inbox under load: 50 conversations with their lead and last message, through the
real application, against one hand-written SQL query returning the same data.

The dataset is :mod:`api_dataset`'s (20 organisations, 100,000 leads, one conversation each,
1,000,000 messages, with ``COPY``). The inbox query runs in process through the ASGI app
(authentication, row-level security, GraphQL validation with the depth and cost limits,
DataLoaders, JSON), each request for one of the 20 organisations in turn; the baseline is one
SQL statement (the page, its leads and each conversation's newest message via LATERAL) on a
plain asyncpg connection as the table owner, so no RLS, no ORM and no HTTP: the floor the API is
compared with.

    python bench/api_inbox.py [--organisations 20] [--leads 100000] [--messages 1000000]
                              [--requests 400]

Uses ``FUNNEL_DATABASE__URL`` when set (a role that may create databases), else an embedded
PostgreSQL. Writes ``bench/results/api_inbox.json``.
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

INBOX = """
query Inbox($first: Int) {
  conversations(first: $first) {
    edges {
      cursor
      node {
        id mode stage needsAttention lastMessageAt lastMessagePreview
        lead { id name waId stage intentLevel }
        lastMessage { id text author direction status createdAt }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

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


async def measure(
    url: str, organisations: int, leads: int, messages: int, requests: int, warmup: int
) -> dict[str, Any]:
    app = create_app(settings_for(url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            tenants = [await register(client, i) for i in range(organisations)]
            seeded = await seed(url, [t[0] for t in tenants], leads, messages)
            counts = await row_counts(url)
            connection = await asyncpg.connect(asyncpg_dsn(url))
            load_before = load_average()
            try:
                api_ms: list[float] = []
                #: The API's own CPU time per request (this process): less sensitive than the
                #: wall time to what else the machine runs.
                api_cpu_ms: list[float] = []
                sql_ms: list[float] = []
                for i in range(warmup + requests):
                    organisation_id, token = tenants[i % len(tenants)]
                    cpu_started = time.process_time()
                    started = time.perf_counter()
                    response = await client.post(
                        "/graphql",
                        json={"query": INBOX, "variables": {"first": PAGE}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    api_elapsed = (time.perf_counter() - started) * 1000
                    api_cpu = (time.process_time() - cpu_started) * 1000
                    body = response.json()
                    if "errors" in body:
                        raise RuntimeError(body["errors"])
                    edges = body["data"]["conversations"]["edges"]
                    started = time.perf_counter()
                    rows = await connection.fetch(BASELINE_SQL, organisation_id, PAGE)
                    sql_elapsed = (time.perf_counter() - started) * 1000
                    if len(edges) != PAGE or len(rows) != PAGE:
                        raise RuntimeError(f"short page: {len(edges)} edges, {len(rows)} rows")
                    # Same data: the same conversations in the same order, same last messages.
                    if [e["node"]["id"] for e in edges] != [str(r["id"]) for r in rows] or [
                        e["node"]["lastMessage"]["id"] for e in edges
                    ] != [str(r["message_id"]) for r in rows]:
                        raise RuntimeError("the API and the SQL baseline disagree")
                    if i >= warmup:
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
        "ms": {"graphql_inbox": api, "hand_written_sql": sql},
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
        "funnel_bench_inbox",
        lambda url: measure(
            url, args.organisations, args.leads, args.messages, args.requests, args.warmup
        ),
    )
    ms = results["ms"]
    print_table(
        f"GraphQL inbox, {PAGE} conversations with lead and last message "
        f"({results['rows']}; {results['requests_measured']} requests)",
        {
            "GraphQL (ASGI, full app)": ms["graphql_inbox"],
            "  its CPU time": results["api_cpu_ms"],
            "SQL": ms["hand_written_sql"],
        },
        results,
    )
    out = write_results("api_inbox", vars(args), results)
    print(f"wrote {out.relative_to(out.parents[2])}")


if __name__ == "__main__":
    main()
