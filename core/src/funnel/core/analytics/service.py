"""Analytics queries. Each is one aggregate statement over indexed tenant columns; the range
is ``[start, end)`` computed in the organisation's timezone, and per-day buckets use
``AT TIME ZONE`` with that same zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.analytics.schemas import (
    Analytics,
    CtaFunnel,
    DateRange,
    DayPoint,
    FollowupEffect,
    LlmUsage,
    ResponseTimes,
    StageCount,
    date_range,
    valid_timezone,
)
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.models import Organisation

#: The sales funnel's order; ``lost`` and ``ghosted`` are exits, not steps.
FUNNEL = ("greeting", "qualification", "pricing", "cta", "closed")

#: p50/p90 of the seconds from each conversation's first inbound message to the first outbound
#: reply after it, for conversations started in the range.
RESPONSE_PERCENTILES = """
    WITH r AS (
    SELECT EXTRACT(EPOCH FROM (
        SELECT min(o.created_at) FROM messages o
        WHERE o.organisation_id = c.organisation_id AND o.conversation_id = c.id
          AND o.direction = 'outbound' AND o.author IN ('bot', 'human')
          AND o.created_at >= f.first_in
    ) - f.first_in) AS seconds
    FROM conversations c
    JOIN LATERAL (
        SELECT min(i.created_at) AS first_in FROM messages i
        WHERE i.organisation_id = c.organisation_id AND i.conversation_id = c.id
          AND i.direction = 'inbound'
    ) f ON f.first_in IS NOT NULL
    WHERE c.organisation_id = :org AND c.created_at >= :start AND c.created_at < :end
    )
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90
    FROM r WHERE seconds IS NOT NULL
"""


async def organisation_range(
    session: AsyncSession,
    date_from: dt.date | None,
    date_to: dt.date | None,
    timezone: str | None = None,
) -> DateRange:
    """Whole days in ``timezone`` (an IANA name), by default the organisation's own."""
    if timezone is not None:
        return date_range(valid_timezone(timezone), date_from, date_to)
    organisation_id = current_organisation_id(session)
    own = (
        await session.execute(
            sa.select(Organisation.timezone).where(Organisation.id == organisation_id)
        )
    ).scalar_one()
    return date_range(own, date_from, date_to)


async def _one(session: AsyncSession, sql: str, params: dict[str, Any]) -> sa.Row[Any]:
    return (await session.execute(sa.text(sql), params)).one()


def _ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


async def response_times(session: AsyncSession, params: dict[str, Any]) -> ResponseTimes:
    row = await _one(
        session,
        RESPONSE_PERCENTILES,
        params,
    )
    return ResponseTimes(
        p50_s=float(row.p50) if row.p50 is not None else None,
        p90_s=float(row.p90) if row.p90 is not None else None,
    )


async def analytics(
    session: AsyncSession,
    date_from: dt.date | None,
    date_to: dt.date | None,
    timezone: str | None = None,
) -> Analytics:
    window = await organisation_range(session, date_from, date_to, timezone)
    params: dict[str, Any] = {
        "org": current_organisation_id(session),
        "start": window.start,
        "end": window.end,
        "tz": window.timezone,
    }
    stages: dict[str, int] = dict(
        (
            await session.execute(
                sa.text(
                    "SELECT stage::text, count(*) FROM conversations WHERE organisation_id = :org"
                    " AND created_at >= :start AND created_at < :end GROUP BY stage"
                ),
                params,
            )
        ).all()
    )
    funnel: list[StageCount] = []
    previous: int | None = None
    for index, stage in enumerate(FUNNEL):
        reached = sum(int(stages.get(s, 0)) for s in FUNNEL[index:])
        funnel.append(
            StageCount(
                stage=stage,
                reached=reached,
                conversion_from_previous=_ratio(reached, previous) if previous else None,
            )
        )
        previous = reached
    handoff = await _one(
        session,
        "SELECT count(*) AS total,"
        " count(*) FILTER (WHERE human_since IS NOT NULL OR last_human_message_at IS NOT NULL)"
        " AS handed FROM conversations WHERE organisation_id = :org"
        " AND created_at >= :start AND created_at < :end",
        params,
    )
    authors = await _one(
        session,
        "SELECT count(*) FILTER (WHERE author = 'bot') AS bot,"
        " count(*) FILTER (WHERE author = 'human') AS human FROM messages"
        " WHERE organisation_id = :org AND direction = 'outbound'"
        " AND created_at >= :start AND created_at < :end",
        params,
    )
    cta = await _one(
        session,
        "SELECT count(*) FILTER (WHERE cta_state IN ('offered','accepted','completed','dismissed',"
        "'expired')) AS offered,"
        " count(*) FILTER (WHERE cta_state IN ('accepted','completed')) AS accepted,"
        " count(*) FILTER (WHERE cta_state = 'completed') AS completed"
        " FROM conversations WHERE organisation_id = :org"
        " AND cta_updated_at >= :start AND cta_updated_at < :end",
        params,
    )
    followups = await _one(
        session,
        "SELECT count(*) AS sent, count(*) FILTER (WHERE EXISTS ("
        "  SELECT 1 FROM messages m WHERE m.organisation_id = a.organisation_id"
        "  AND m.conversation_id = a.conversation_id AND m.direction = 'inbound'"
        "  AND m.created_at > a.completed_at"
        "  AND m.created_at <= a.completed_at + interval '24 hours')) AS replied"
        " FROM scheduled_actions a WHERE a.organisation_id = :org AND a.kind = 'followup'"
        " AND a.status = 'done' AND a.completed_at >= :start AND a.completed_at < :end",
        params,
    )
    llm = await _one(
        session,
        "SELECT count(*) AS runs, coalesce(sum(input_tokens), 0) AS input_tokens,"
        " coalesce(sum(output_tokens), 0) AS output_tokens, coalesce(sum(cost_usd), 0) AS cost"
        " FROM pipeline_runs WHERE organisation_id = :org"
        " AND started_at >= :start AND started_at < :end",
        params,
    )
    series_rows = (
        await session.execute(
            sa.text(
                "WITH days AS (SELECT generate_series(CAST(:day_from AS date),"
                " CAST(:day_to AS date), interval '1 day')::date AS day),"
                " msgs AS (SELECT (created_at AT TIME ZONE :tz)::date AS day,"
                "  count(*) FILTER (WHERE direction = 'inbound') AS inbound,"
                "  count(*) FILTER (WHERE direction = 'outbound') AS outbound"
                "  FROM messages WHERE organisation_id = :org"
                "  AND created_at >= :start AND created_at < :end GROUP BY 1),"
                " convs AS (SELECT (created_at AT TIME ZONE :tz)::date AS day, count(*) AS n"
                "  FROM conversations WHERE organisation_id = :org"
                "  AND created_at >= :start AND created_at < :end GROUP BY 1),"
                " runs AS (SELECT (started_at AT TIME ZONE :tz)::date AS day,"
                "  sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,"
                "  sum(cost_usd) AS cost FROM pipeline_runs WHERE organisation_id = :org"
                "  AND started_at >= :start AND started_at < :end GROUP BY 1)"
                " SELECT days.day, coalesce(convs.n, 0) AS n, coalesce(msgs.inbound, 0) AS inbound,"
                " coalesce(msgs.outbound, 0) AS outbound,"
                " coalesce(runs.input_tokens, 0) AS input_tokens,"
                " coalesce(runs.output_tokens, 0) AS output_tokens, coalesce(runs.cost, 0) AS cost"
                " FROM days LEFT JOIN msgs USING (day) LEFT JOIN convs USING (day)"
                " LEFT JOIN runs USING (day) ORDER BY days.day"
            ),
            {**params, "day_from": window.date_from, "day_to": window.date_to},
        )
    ).all()
    outbound = int(authors.bot) + int(authors.human)
    return Analytics(
        range=window,
        funnel=funnel,
        response_times=await response_times(session, params),
        handoff_rate=_ratio(int(handoff.handed), int(handoff.total)),
        ai_share=_ratio(int(authors.bot), outbound),
        human_share=_ratio(int(authors.human), outbound),
        cta=CtaFunnel(
            offered=int(cta.offered), accepted=int(cta.accepted), completed=int(cta.completed)
        ),
        followups=FollowupEffect(
            sent=int(followups.sent),
            replied_within_24h=int(followups.replied),
            reply_rate=_ratio(int(followups.replied), int(followups.sent)),
        ),
        llm=LlmUsage(
            runs=int(llm.runs),
            input_tokens=int(llm.input_tokens),
            output_tokens=int(llm.output_tokens),
            cost_usd=float(llm.cost),
        ),
        series=[
            DayPoint(
                day=r.day,
                new_conversations=int(r.n),
                inbound_messages=int(r.inbound),
                outbound_messages=int(r.outbound),
                llm_input_tokens=int(r.input_tokens),
                llm_output_tokens=int(r.output_tokens),
                llm_cost_usd=float(r.cost),
            )
            for r in series_rows
        ],
    )
