"""Dashboard KPIs: a handful of aggregate statements over the tenant's indexed columns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.analytics.service import organisation_range, response_times
from funnel.core.dashboard.schemas import AttentionQueue, Dashboard
from funnel.core.db.tenancy import current_organisation_id


async def dashboard(
    session: AsyncSession,
    date_from: dt.date | None,
    date_to: dt.date | None,
    timezone: str | None = None,
) -> Dashboard:
    window = await organisation_range(session, date_from, date_to, timezone)
    params: dict[str, Any] = {
        "org": current_organisation_id(session),
        "start": window.start,
        "end": window.end,
    }

    async def one(sql: str) -> sa.Row[Any]:
        return (await session.execute(sa.text(sql), params)).one()

    conversations = await one(
        "SELECT count(*) AS n FROM conversations WHERE organisation_id = :org"
        " AND created_at >= :start AND created_at < :end"
    )
    leads = await one(
        "SELECT count(*) AS active,"
        " count(*) FILTER (WHERE l.intent_level IN ('high', 'very_high')) AS high"
        " FROM leads l WHERE l.organisation_id = :org AND EXISTS ("
        "  SELECT 1 FROM messages m WHERE m.organisation_id = l.organisation_id"
        "  AND m.lead_id = l.id AND m.direction = 'inbound'"
        "  AND m.created_at >= :start AND m.created_at < :end)"
    )
    authors: dict[str, int] = dict(
        (
            await session.execute(
                sa.text(
                    "SELECT author::text, count(*) FROM messages WHERE organisation_id = :org"
                    " AND created_at >= :start AND created_at < :end GROUP BY author"
                ),
                params,
            )
        ).all()
    )
    attention = await one(
        "SELECT count(*) AS n, min(attention_raised_at) AS oldest FROM conversations"
        " WHERE organisation_id = :org AND needs_attention"
    )
    handled = await one(
        "SELECT count(*) AS active, count(*) FILTER (WHERE NOT EXISTS ("
        "  SELECT 1 FROM messages h WHERE h.organisation_id = c.organisation_id"
        "  AND h.conversation_id = c.id AND h.author = 'human')) AS ai_only"
        " FROM conversations c WHERE c.organisation_id = :org AND EXISTS ("
        "  SELECT 1 FROM messages m WHERE m.organisation_id = c.organisation_id"
        "  AND m.conversation_id = c.id AND m.created_at >= :start AND m.created_at < :end)"
    )
    times = await response_times(session, params)
    active = int(handled.active)
    return Dashboard(
        range=window,
        conversations=int(conversations.n),
        active_leads=int(leads.active),
        high_intent_leads=int(leads.high),
        messages_by_author={str(k): int(v) for k, v in authors.items()},
        attention=AttentionQueue(count=int(attention.n), oldest_raised_at=attention.oldest),
        median_first_response_s=times.p50_s,
        ai_handled_share=round(int(handled.ai_only) / active, 4) if active else None,
    )
