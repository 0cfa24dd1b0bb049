"""Dashboard KPIs."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from funnel.core.analytics.schemas import DateRange


class AttentionQueue(BaseModel):
    #: Conversations waiting for a person now (not range-bound: it is a queue).
    count: int
    oldest_raised_at: dt.datetime | None


class Dashboard(BaseModel):
    range: DateRange
    #: Conversations started in the range.
    conversations: int
    #: Leads who sent at least one message in the range.
    active_leads: int
    #: Of those, the ones whose intent is high or very high.
    high_intent_leads: int
    #: Messages in the range by author: lead, bot, human, system.
    messages_by_author: dict[str, int]
    attention: AttentionQueue
    #: Median seconds to the first reply in conversations started in the range.
    median_first_response_s: float | None
    #: Share of the range's active conversations in which no person wrote.
    ai_handled_share: float | None
