"""Date ranges and analytics results.

A range is whole days in the organisation's timezone (``organisations.timezone``): "today" for
a business in Kolkata starts at 00:00 IST, which is 18:30 UTC the day before. The original
hard-coded 'IST' (which PostgreSQL reads as Israel Standard Time) for everyone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from funnel.core.errors import ValidationFailed

MAX_DAYS = 366


class DateRange(BaseModel):
    date_from: dt.date
    #: Inclusive.
    date_to: dt.date
    timezone: str

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=ZoneInfo(self.timezone))

    @property
    def end(self) -> dt.datetime:
        """Exclusive: midnight after ``date_to``, in the organisation's timezone."""
        after = self.date_to + dt.timedelta(days=1)
        return dt.datetime.combine(after, dt.time.min, tzinfo=ZoneInfo(self.timezone))


def valid_timezone(name: str) -> str:
    """An IANA timezone name, or a 422."""
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValidationFailed(
            f"{name!r} is not a timezone name", details={"field": "timezone"}
        ) from exc
    return name


def date_range(
    timezone: str, date_from: dt.date | None, date_to: dt.date | None, *, default_days: int = 7
) -> DateRange:
    today = dt.datetime.now(ZoneInfo(timezone)).date()
    end = date_to or today
    start = date_from or end - dt.timedelta(days=default_days - 1)
    if start > end:
        raise ValidationFailed("date_from is after date_to")
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed(f"a range is at most {MAX_DAYS} days")
    return DateRange(date_from=start, date_to=end, timezone=timezone)


class StageCount(BaseModel):
    stage: str
    #: Conversations whose stage is this one or a later one in the funnel.
    reached: int
    #: ``reached`` / the previous stage's ``reached`` (None for the first stage or a zero).
    conversion_from_previous: float | None


class ResponseTimes(BaseModel):
    #: Seconds from a lead's first message to the first reply (bot or person).
    p50_s: float | None
    p90_s: float | None


class CtaFunnel(BaseModel):
    offered: int
    accepted: int
    completed: int


class FollowupEffect(BaseModel):
    sent: int
    #: Follow-ups the lead answered within 24 hours.
    replied_within_24h: int
    reply_rate: float | None


class LlmUsage(BaseModel):
    runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class DayPoint(BaseModel):
    day: dt.date
    new_conversations: int
    inbound_messages: int
    outbound_messages: int
    #: The day's pipeline runs (by start): LLM tokens in and out, and their cost.
    llm_input_tokens: int
    llm_output_tokens: int
    llm_cost_usd: float


class Analytics(BaseModel):
    range: DateRange
    funnel: list[StageCount]
    response_times: ResponseTimes
    #: Conversations in the range that a person took over (or wrote in).
    handoff_rate: float | None
    #: Outbound messages by author: bot vs human shares.
    ai_share: float | None
    human_share: float | None
    cta: CtaFunnel
    followups: FollowupEffect
    llm: LlmUsage
    series: list[DayPoint]
