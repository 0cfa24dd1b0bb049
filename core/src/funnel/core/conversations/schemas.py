"""Request and response models for conversations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from funnel.core.leads.schemas import LeadRead
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    CtaState,
    IntentLevel,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    MessageType,
    PipelineRunStatus,
    PipelineStage,
    Sentiment,
)


class ConversationFilters(BaseModel):
    mode: ConversationMode | None = None
    stage: ConversationStage | None = None
    needs_attention: bool | None = None
    assigned_user_id: uuid.UUID | None = None
    channel_id: uuid.UUID | None = None


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lead_id: uuid.UUID
    channel_id: uuid.UUID
    mode: ConversationMode
    stage: ConversationStage
    intent_level: IntentLevel
    sentiment: Sentiment
    assigned_user_id: uuid.UUID | None
    needs_attention: bool
    attention_reason: str | None
    attention_raised_at: dt.datetime | None
    attention_resolved_at: dt.datetime | None
    cta_id: uuid.UUID | None
    cta_state: CtaState | None
    rolling_summary: str | None
    last_message_preview: str | None
    last_message_at: dt.datetime | None
    window_expires_at: dt.datetime | None
    human_since: dt.datetime | None
    auto_release_at: dt.datetime | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ConversationPage(BaseModel):
    items: list[ConversationRead]
    next_cursor: str | None


class PipelineStepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stage: PipelineStage
    attempt: int
    model: str | None
    prompt_version: str | None
    latency_ms: int | None
    input_tokens: int
    output_tokens: int
    #: The stage's output; the retrieval step's lists the knowledge chunks it used.
    output: dict[str, Any] | None
    error: str | None
    #: What policy changed in the model's decision (a blocked link, a shortened reply…).
    overrides: dict[str, Any]


class PipelineTrace(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: PipelineRunStatus
    provider: str
    latency_ms: int | None
    input_tokens: int
    output_tokens: int
    decision: dict[str, Any]
    error: str | None
    steps: list[PipelineStepRead]


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    direction: MessageDirection
    author: MessageAuthor
    author_user_id: uuid.UUID | None
    type: MessageType
    text: str | None
    content: dict[str, Any]
    status: MessageStatus
    status_updated_at: dt.datetime | None
    error_code: int | None
    error_title: str | None
    media_id: uuid.UUID | None
    pipeline_run_id: uuid.UUID | None
    whatsapp_timestamp: dt.datetime | None
    created_at: dt.datetime
    #: The bot's reasoning for this message (bot messages only).
    trace: PipelineTrace | None = None


class ConversationDetail(BaseModel):
    conversation: ConversationRead
    lead: LeadRead
    #: Newest first.
    messages: list[MessageRead]
    #: Pass back as ``messages_cursor`` for older messages; ``None`` when there are none.
    messages_next_cursor: str | None


class AssignRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"user_id": "00000000-0000-0000-0000-000000000000"}]},
    )

    #: A member of the organisation, or ``null`` to unassign.
    user_id: uuid.UUID | None


class StartFollowupsRequest(BaseModel):
    """Which follow-up sequence to start on the conversation."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sequence_id": "00000000-0000-0000-0000-000000000000"}]},
    )

    sequence_id: uuid.UUID
