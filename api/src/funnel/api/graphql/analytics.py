"""Analytics and the dashboard's KPIs for a date range, through the same services as REST's
``/analytics`` and ``/dashboard`` (so the figures are the same). Dates are whole days in the
organisation's timezone unless ``timezone`` names another; the range answered is echoed."""

from __future__ import annotations

import datetime as dt

import strawberry
from graphql import GraphQLError

from funnel.api.graphql._common import VIEWER
from funnel.api.graphql.context import Info
from funnel.core.analytics import service as analytics_service
from funnel.core.analytics.schemas import Analytics as AnalyticsRead
from funnel.core.analytics.schemas import DateRange as DateRangeRead
from funnel.core.dashboard import service as dashboard_service
from funnel.core.dashboard.schemas import Dashboard as DashboardRead
from funnel.core.errors import ValidationFailed


@strawberry.type
class DateRange:
    date_from: dt.date
    #: Inclusive.
    date_to: dt.date
    timezone: str

    @classmethod
    def from_read(cls, r: DateRangeRead) -> DateRange:
        return cls(date_from=r.date_from, date_to=r.date_to, timezone=r.timezone)


@strawberry.type
class StageCount:
    stage: str
    reached: int
    conversion_from_previous: float | None


@strawberry.type
class ResponseTimes:
    p50_seconds: float | None
    p90_seconds: float | None


@strawberry.type
class CtaFunnel:
    offered: int
    accepted: int
    completed: int


@strawberry.type
class FollowupEffect:
    sent: int
    replied_within_24h: int
    reply_rate: float | None


@strawberry.type
class LlmUsage:
    runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


@strawberry.type(description="One day in the organisation's timezone; days with nothing are 0.")
class DayPoint:
    day: dt.date
    new_conversations: int
    inbound_messages: int
    outbound_messages: int
    llm_input_tokens: int = strawberry.field(
        description="LLM input tokens of the pipeline runs started that day."
    )
    llm_output_tokens: int = strawberry.field(
        description="LLM output tokens of the pipeline runs started that day."
    )
    llm_cost_usd: float = strawberry.field(description="What those runs' LLM calls cost.")


@strawberry.type
class Analytics:
    range: DateRange
    funnel: list[StageCount]
    response_times: ResponseTimes
    handoff_rate: float | None
    ai_share: float | None
    human_share: float | None
    cta: CtaFunnel
    followups: FollowupEffect
    llm: LlmUsage
    series: list[DayPoint]

    @classmethod
    def from_read(cls, a: AnalyticsRead) -> Analytics:
        return cls(
            range=DateRange.from_read(a.range),
            funnel=[
                StageCount(
                    stage=s.stage,
                    reached=s.reached,
                    conversion_from_previous=s.conversion_from_previous,
                )
                for s in a.funnel
            ],
            response_times=ResponseTimes(
                p50_seconds=a.response_times.p50_s, p90_seconds=a.response_times.p90_s
            ),
            handoff_rate=a.handoff_rate,
            ai_share=a.ai_share,
            human_share=a.human_share,
            cta=CtaFunnel(
                offered=a.cta.offered, accepted=a.cta.accepted, completed=a.cta.completed
            ),
            followups=FollowupEffect(
                sent=a.followups.sent,
                replied_within_24h=a.followups.replied_within_24h,
                reply_rate=a.followups.reply_rate,
            ),
            llm=LlmUsage(
                runs=a.llm.runs,
                input_tokens=a.llm.input_tokens,
                output_tokens=a.llm.output_tokens,
                cost_usd=a.llm.cost_usd,
            ),
            series=[
                DayPoint(
                    day=p.day,
                    new_conversations=p.new_conversations,
                    inbound_messages=p.inbound_messages,
                    outbound_messages=p.outbound_messages,
                    llm_input_tokens=p.llm_input_tokens,
                    llm_output_tokens=p.llm_output_tokens,
                    llm_cost_usd=p.llm_cost_usd,
                )
                for p in a.series
            ],
        )


@strawberry.type
class AuthorCount:
    #: lead, bot, human or system.
    author: str
    count: int


@strawberry.type
class AttentionQueue:
    count: int
    oldest_raised_at: dt.datetime | None


@strawberry.type
class Dashboard:
    range: DateRange
    conversations: int
    active_leads: int
    high_intent_leads: int
    messages_by_author: list[AuthorCount]
    attention: AttentionQueue
    median_first_response_seconds: float | None
    ai_handled_share: float | None

    @classmethod
    def from_read(cls, d: DashboardRead) -> Dashboard:
        return cls(
            range=DateRange.from_read(d.range),
            conversations=d.conversations,
            active_leads=d.active_leads,
            high_intent_leads=d.high_intent_leads,
            messages_by_author=[
                AuthorCount(author=author, count=count)
                for author, count in sorted(d.messages_by_author.items())
            ],
            attention=AttentionQueue(
                count=d.attention.count, oldest_raised_at=d.attention.oldest_raised_at
            ),
            median_first_response_seconds=d.median_first_response_s,
            ai_handled_share=d.ai_handled_share,
        )


def _invalid(exc: ValidationFailed) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": "VALIDATION_FAILED"})


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Funnel, response times, handoffs, CTA and follow-up effect, LLM cost and a per-day "
            "series (REST: GET /analytics). Default: the last 7 days."
        ),
    )
    async def analytics(
        self,
        info: Info,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        timezone: str | None = None,
    ) -> Analytics:
        try:
            result = await analytics_service.analytics(
                info.context.session, date_from, date_to, timezone
            )
        except ValidationFailed as exc:
            raise _invalid(exc) from exc
        return Analytics.from_read(result)

    @strawberry.field(
        permission_classes=VIEWER,
        description="The dashboard's KPIs (REST: GET /dashboard). Default: the last 7 days.",
    )
    async def dashboard(
        self,
        info: Info,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        timezone: str | None = None,
    ) -> Dashboard:
        try:
            result = await dashboard_service.dashboard(
                info.context.session, date_from, date_to, timezone
            )
        except ValidationFailed as exc:
            raise _invalid(exc) from exc
        return Dashboard.from_read(result)
