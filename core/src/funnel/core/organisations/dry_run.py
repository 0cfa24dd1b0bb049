"""Dry-running the pipeline on a text for one organisation (``/debug``).

Builds a :class:`funnel.core.turns.contract.Turn` for a synthetic conversation from the
organisation's real profile and CTAs, runs the pipeline, and returns what it decided with the
per-stage trace. Nothing is written: no lead, conversation, message, outbox row or trace. The
original's ``/debug/message`` wrote a fake inbound message into whichever tenant owned the first
lead, without authentication.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import Cta, Organisation
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    IntentLevel,
    MessageAuthor,
    MessageType,
    Sentiment,
)
from funnel.core.turns.contract import (
    ConversationSnapshot,
    CtaOption,
    LeadSnapshot,
    OrganisationProfile,
    Pipeline,
    Turn,
    TurnMessage,
)


class DryRunMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: MessageAuthor = MessageAuthor.LEAD
    text: str = Field(min_length=1, max_length=4096)


class DryRunRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Hi, how much does the premium plan cost?"}]},
    )

    text: str = Field(min_length=1, max_length=4096)
    history: list[DryRunMessage] = Field(default_factory=list, max_length=20)
    stage: ConversationStage = ConversationStage.GREETING
    lead_name: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=16)


class DryRunStep(BaseModel):
    stage: str
    model: str
    prompt_version: str
    latency_ms: float
    input_tokens: int
    output_tokens: int
    output: dict[str, Any]
    error: str | None
    attempt: int


class DryRunReply(BaseModel):
    kind: str
    message_type: str
    preview: str
    message: dict[str, Any]


class DryRunResult(BaseModel):
    provider: str
    is_offline: bool
    decision: dict[str, Any]
    replies: list[DryRunReply]
    update: dict[str, Any]
    steps: list[DryRunStep]
    error: str | None


def _profile(organisation: Organisation) -> OrganisationProfile:
    return OrganisationProfile(
        id=organisation.id,
        name=organisation.name,
        business_name=organisation.business_name or organisation.name,
        business_description=organisation.business_description or "",
        persona_prompt=organisation.persona_prompt or "",
        flow_prompt=organisation.flow_prompt or "",
        timezone=organisation.timezone,
        default_language=organisation.default_language,
        reply_word_limit=organisation.reply_word_limit,
        allowed_link_domains=tuple(organisation.allowed_link_domains or ()),
        llm_models={str(k): str(v) for k, v in (organisation.llm_models or {}).items()},
        quiet_hours=dict(organisation.quiet_hours or {}),
        followup_policy=dict(organisation.followup_policy or {}),
        auto_release_minutes=organisation.auto_release_minutes,
        notify_customer_on_handoff=organisation.notify_customer_on_handoff,
    )


async def build_turn(
    session: AsyncSession,
    organisation: Organisation,
    request: DryRunRequest,
    *,
    correlation_id: str,
) -> Turn:
    now = dt.datetime.now(dt.UTC)
    ctas = (
        await session.scalars(
            sa.select(Cta)
            .where(
                Cta.organisation_id == organisation.id,
                Cta.is_active.is_(True),
                Cta.deleted_at.is_(None),
            )
            .order_by(Cta.created_at)
        )
    ).all()
    history = tuple(
        TurnMessage(
            id=uuid.uuid4(),
            author=m.author,
            type=MessageType.TEXT,
            text=m.text,
            content={},
            # Spaced a minute apart, ending before the new message.
            at=now - dt.timedelta(minutes=len(request.history) - i + 1),
        )
        for i, m in enumerate(request.history)
    )
    message = TurnMessage(
        id=uuid.uuid4(), author=MessageAuthor.LEAD, type=MessageType.TEXT, text=request.text,
        content={}, at=now,
    )  # fmt: skip
    lead_id = uuid.uuid4()
    return Turn(
        organisation=_profile(organisation),
        conversation=ConversationSnapshot(
            id=uuid.uuid4(),
            lead_id=lead_id,
            channel_id=uuid.uuid4(),
            mode=ConversationMode.BOT,
            stage=request.stage,
            intent_level=IntentLevel.UNKNOWN,
            sentiment=Sentiment.NEUTRAL,
            needs_attention=False,
            cta_id=None,
            cta_state=None,
            rolling_summary="",
            followups_sent_24h=0,
            total_nudges=0,
            last_inbound_at=now,
            window_expires_at=now + dt.timedelta(hours=24),
        ),
        lead=LeadSnapshot(
            id=lead_id,
            wa_id=None,
            bsuid=None,
            name=request.lead_name,
            language=request.language,
            opted_out=False,
        ),
        new_messages=(message,),
        history=history,
        ctas=tuple(
            CtaOption(id=c.id, type=c.type.value, name=c.name, url=c.url, button_text=c.button_text)
            for c in ctas
        ),
        now=now,
        correlation_id=correlation_id,
        trigger="dry_run",
    )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (uuid.UUID, dt.datetime)):
        return str(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def dry_run(
    session: AsyncSession,
    organisation: Organisation,
    pipeline: Pipeline,
    request: DryRunRequest,
    *,
    correlation_id: str,
) -> DryRunResult:
    turn = await build_turn(session, organisation, request, correlation_id=correlation_id)
    result = await pipeline.run_turn(turn)
    update = {k: v for k, v in _plain(result.update).items() if v is not None}
    return DryRunResult(
        provider=result.provider,
        is_offline=result.is_offline,
        decision=_plain(result.decision),
        replies=[
            DryRunReply(
                kind=r.kind.value,
                message_type=r.message_type.value,
                preview=r.preview,
                message=_plain(r.message),
            )
            for r in result.replies
        ],
        update=update,
        steps=[
            DryRunStep(
                stage=s.stage,
                model=s.model,
                prompt_version=s.prompt_version,
                latency_ms=s.latency_ms,
                input_tokens=s.input_tokens,
                output_tokens=s.output_tokens,
                output=_plain(s.output),
                error=s.error,
                attempt=s.attempt,
            )
            for s in result.steps
        ],
        error=result.error,
    )
