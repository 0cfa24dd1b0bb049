"""The inbox: conversations with their lead and last message, one conversation's messages with
each bot message's pipeline trace, and the live events the inbox listens to.

Every list is a Relay-style connection capped at :data:`MAX_PAGE` items, so a page costs the same
number of SQL statements whatever its size. The inbox page brings its conversations' leads and
last messages in its own statement when the query selects them; every other relation goes
through a DataLoader, one batch per relation the query selects (messages of the page's
conversations, runs, steps, assignees).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import uuid
from collections import defaultdict, namedtuple
from collections.abc import AsyncGenerator, Sequence
from typing import Any, cast

import sqlalchemy as sa
import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from funnel.api.graphql.account import Person
from funnel.api.graphql.context import Info
from funnel.api.graphql.live import stream
from funnel.api.graphql.loaders import by_id, user_by_id
from funnel.api.graphql.permissions import IsAuthenticated, IsUser
from funnel.core.conversations import service as conversations_service
from funnel.core.conversations.repository import inbox_page
from funnel.core.conversations.schemas import ConversationRead
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.events import Event, EventType
from funnel.core.leads.pagination import Cursor
from funnel.core.leads.schemas import LeadRead
from funnel.core.messages.display import (
    interactive_summary,
    media_summary,
    template_summary,
)
from funnel.core.models import Conversation as ConversationModel
from funnel.core.models import Lead as LeadModel
from funnel.core.models import MediaObject as MediaObjectModel
from funnel.core.models import Message as MessageModel
from funnel.core.models import PipelineRun as PipelineRunModel
from funnel.core.models import PipelineStep as PipelineStepModel
from funnel.core.models.enums import (
    ConversationMode as ConversationModeEnum,
)
from funnel.core.models.enums import (
    ConversationStage as ConversationStageEnum,
)
from funnel.core.models.enums import (
    IntentLevel as IntentLevelEnum,
)
from funnel.core.models.enums import (
    MessageAuthor as MessageAuthorEnum,
)
from funnel.core.models.enums import (
    MessageDirection as MessageDirectionEnum,
)
from funnel.core.models.enums import (
    MessageStatus as MessageStatusEnum,
)
from funnel.core.models.enums import (
    MessageType as MessageTypeEnum,
)
from funnel.core.models.enums import (
    PipelineRunStatus as PipelineRunStatusEnum,
)
from funnel.core.models.enums import (
    PipelineStage as PipelineStageEnum,
)
from funnel.core.models.enums import (
    Sentiment as SentimentEnum,
)

#: The largest page any connection serves; the cost limit multiplies by it.
MAX_PAGE = 100
DEFAULT_PAGE = 20

ConversationMode = strawberry.enum(ConversationModeEnum, name="ConversationMode")
ConversationStage = strawberry.enum(ConversationStageEnum, name="ConversationStage")
IntentLevel = strawberry.enum(IntentLevelEnum, name="IntentLevel")
Sentiment = strawberry.enum(SentimentEnum, name="Sentiment")
MessageDirection = strawberry.enum(MessageDirectionEnum, name="MessageDirection")
MessageAuthor = strawberry.enum(MessageAuthorEnum, name="MessageAuthor")
MessageKind = strawberry.enum(MessageTypeEnum, name="MessageKind")
MessageStatus = strawberry.enum(MessageStatusEnum, name="MessageStatus")
PipelineRunStatus = strawberry.enum(PipelineRunStatusEnum, name="PipelineRunStatus")
PipelineStage = strawberry.enum(PipelineStageEnum, name="PipelineStage")


# ------------------------------------------------------------------------------------ paging


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE if first is None else first
    if not 1 <= size <= MAX_PAGE:
        raise GraphQLError(f"first must be between 1 and {MAX_PAGE}")
    return size


def encode_cursor(at: dt.datetime | None, row_id: uuid.UUID) -> str:
    # The JSON array ``[at, id]`` written directly (one per edge: json.dumps showed in the
    # profile); neither an ISO timestamp nor a UUID has a character JSON would escape.
    raw = f'["{at.isoformat()}","{row_id}"]' if at else f'[null,"{row_id}"]'
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime | None, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return (dt.datetime.fromisoformat(at) if at else None), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise GraphQLError("invalid cursor") from exc


def parse_id(value: strawberry.ID | None) -> uuid.UUID | None:
    """An id argument as a UUID; ``None`` for anything that is not one (so it matches nothing
    rather than erroring with details)."""
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


# ------------------------------------------------------------------------------------ loaders


def lead_by_id(session: AsyncSession) -> DataLoader[uuid.UUID, LeadModel | None]:
    return DataLoader(load_fn=by_id(session, LeadModel))


def conversation_by_id(session: AsyncSession) -> DataLoader[uuid.UUID, ConversationModel | None]:
    return DataLoader(load_fn=by_id(session, ConversationModel))


def run_by_id(session: AsyncSession) -> DataLoader[uuid.UUID, PipelineRunModel | None]:
    return DataLoader(load_fn=by_id(session, PipelineRunModel))


@dataclasses.dataclass(frozen=True)
class _StoredMedia:
    mime_type: str
    filename: str | None
    size_bytes: int | None
    stored: bool


def media_by_id(session: AsyncSession) -> DataLoader[uuid.UUID, _StoredMedia | None]:
    """A media row's description (never its bytes), and whether our copy of them exists."""

    async def load(ids: Sequence[uuid.UUID]) -> list[_StoredMedia | None]:
        rows = await session.execute(
            sa.select(
                MediaObjectModel.id,
                MediaObjectModel.mime_type,
                MediaObjectModel.filename,
                MediaObjectModel.size_bytes,
                MediaObjectModel.content.isnot(None),
            ).where(
                MediaObjectModel.organisation_id == current_organisation_id(session),
                MediaObjectModel.id.in_(list(ids)),
            )
        )
        found = {r[0]: _StoredMedia(r[1], r[2], r[3], bool(r[4])) for r in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def _id_table(ids: Sequence[uuid.UUID]) -> Any:
    """``unnest(:ids) AS wanted(id)``: the batch's keys as a table to join LATERAL against."""
    return (
        sa.func.unnest(sa.cast(list(ids), sa.ARRAY(sa.Uuid)))
        .table_valued("id")
        .render_derived(name="wanted")
    )


def last_message_by_conversation(
    session: AsyncSession,
) -> DataLoader[uuid.UUID, MessageModel | None]:
    """The newest message of each conversation, in one statement: a LATERAL top-1 per id on the
    ``(organisation_id, conversation_id, created_at)`` index, so its cost does not grow with the
    conversations' length."""

    async def load(ids: Sequence[uuid.UUID]) -> list[MessageModel | None]:
        organisation_id = current_organisation_id(session)
        wanted = _id_table(ids)
        newest = (
            sa.select(MessageModel)
            .where(
                MessageModel.organisation_id == organisation_id,
                MessageModel.conversation_id == wanted.c.id,
            )
            .order_by(MessageModel.created_at.desc(), MessageModel.id.desc())
            .limit(1)
            .lateral()
        )
        statement = (
            sa.select(aliased(MessageModel, newest)).select_from(wanted).join(newest, sa.true())
        )
        rows = {m.conversation_id: m for m in (await session.scalars(statement))}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


@dataclasses.dataclass(frozen=True, slots=True)
class MessagePageKey:
    conversation_id: uuid.UUID
    first: int
    after: tuple[dt.datetime | None, uuid.UUID] | None


def message_pages(
    session: AsyncSession,
) -> DataLoader[MessagePageKey, list[MessageModel]]:
    """Pages of messages, newest first, for many conversations at once: one LATERAL statement per
    distinct (page size, cursor), which for a list of conversations asking for their first page
    is one statement. Each page has one extra row to tell whether there is a next page."""

    async def load(keys: Sequence[MessagePageKey]) -> list[list[MessageModel]]:
        organisation_id = current_organisation_id(session)
        groups: dict[tuple[int, Any], list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after)].append(key.conversation_id)
        found: dict[MessagePageKey, list[MessageModel]] = defaultdict(list)
        for (first, after), conversation_ids in groups.items():
            wanted = _id_table(conversation_ids)
            conditions: list[sa.ColumnElement[bool]] = [
                MessageModel.organisation_id == organisation_id,
                MessageModel.conversation_id == wanted.c.id,
            ]
            if after is not None:
                at, row_id = after
                conditions.append(
                    sa.tuple_(MessageModel.created_at, MessageModel.id) < sa.tuple_(at, row_id)
                )
            page = (
                sa.select(MessageModel)
                .where(*conditions)
                .order_by(MessageModel.created_at.desc(), MessageModel.id.desc())
                .limit(first + 1)
                .lateral()
            )
            in_page = aliased(MessageModel, page)
            statement = sa.select(in_page).select_from(wanted).join(page, sa.true())
            for message in await session.scalars(statement):
                found[MessagePageKey(message.conversation_id, first, after)].append(message)
        for rows in found.values():
            rows.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def unread_by_conversation(
    session: AsyncSession,
) -> DataLoader[tuple[uuid.UUID, uuid.UUID], int]:
    """Unread customer messages per (user, conversation): one statement for a whole page."""

    async def load(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[int]:
        by_user: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for user_id, conversation_id in keys:
            by_user[user_id].append(conversation_id)
        counts: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        for user_id, conversation_ids in by_user.items():
            found = await conversations_service.unread_counts(session, user_id, conversation_ids)
            counts.update({(user_id, c): n for c, n in found.items()})
        return [counts.get(key, 0) for key in keys]

    return DataLoader(load_fn=load)


def steps_by_run(session: AsyncSession) -> DataLoader[uuid.UUID, list[PipelineStepModel]]:
    async def load(ids: Sequence[uuid.UUID]) -> list[list[PipelineStepModel]]:
        organisation_id = current_organisation_id(session)
        statement = (
            sa.select(PipelineStepModel)
            .where(
                PipelineStepModel.organisation_id == organisation_id,
                PipelineStepModel.run_id.in_(list(ids)),
            )
            .order_by(PipelineStepModel.started_at, PipelineStepModel.attempt)
        )
        grouped: dict[uuid.UUID, list[PipelineStepModel]] = defaultdict(list)
        for step in await session.scalars(statement):
            grouped[step.run_id].append(step)
        return [grouped.get(i, []) for i in ids]

    return DataLoader(load_fn=load)


# ------------------------------------------------------------------------------------ types

#: A prefetched relation not loaded (``None`` is a loaded "there is none").
NOT_LOADED: Any = object()


def _json(value: Any) -> JSON:
    # Stored JSONB is already JSON-shaped; the scalar only changes how the schema names it.
    return cast(JSON, value)


@strawberry.type
class Lead:
    id: strawberry.ID
    name: str | None
    #: The customer's WhatsApp number (this organisation's own customer).
    wa_id: str | None
    email: str | None
    company: str | None
    language: str | None
    tags: list[str]
    stage: ConversationStage  # type: ignore[valid-type]
    intent_level: IntentLevel  # type: ignore[valid-type]
    sentiment: Sentiment  # type: ignore[valid-type]
    opted_out: bool
    opted_out_at: dt.datetime | None
    last_inbound_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def from_model(cls, lead: LeadModel | LeadRead) -> Lead:
        return cls(
            id=strawberry.ID(str(lead.id)),
            name=lead.name,
            wa_id=lead.wa_id,
            email=lead.email,
            company=lead.company,
            language=lead.language,
            tags=list(lead.tags or []),
            stage=lead.stage,
            intent_level=lead.intent_level,
            sentiment=lead.sentiment,
            opted_out=lead.opted_out,
            opted_out_at=lead.opted_out_at,
            last_inbound_at=lead.last_inbound_at,
            created_at=lead.created_at,
        )


@strawberry.type
class PipelineStep:
    stage: PipelineStage  # type: ignore[valid-type]
    attempt: int
    model: str | None
    prompt_version: str | None
    latency_ms: int | None
    input_tokens: int
    output_tokens: int
    output: JSON | None
    error: str | None
    #: Where the policy stage's guardrails changed this stage's output.
    overrides: JSON

    @classmethod
    def from_model(cls, step: PipelineStepModel) -> PipelineStep:
        return cls(
            stage=step.stage,
            attempt=step.attempt,
            model=step.model,
            prompt_version=step.prompt_version,
            latency_ms=step.latency_ms,
            input_tokens=step.input_tokens,
            output_tokens=step.output_tokens,
            output=_json(step.output),
            error=step.error,
            overrides=_json(step.overrides or {}),
        )


@strawberry.type
class PipelineTrace:
    id: strawberry.ID
    status: PipelineRunStatus  # type: ignore[valid-type]
    provider: str
    is_offline: bool
    started_at: dt.datetime
    finished_at: dt.datetime | None
    latency_ms: int | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    decision: JSON
    error: str | None

    @strawberry.field(description="Each stage with its model, latency, output and overrides.")
    async def steps(self, info: Info) -> list[PipelineStep]:
        # One run has at most one row per stage and attempt: a short, bounded list.
        rows = await info.context.loader(steps_by_run).load(uuid.UUID(str(self.id)))
        return [PipelineStep.from_model(s) for s in rows]

    @strawberry.field(description="Knowledge chunks the retrieval stage handed to the Brain.")
    async def knowledge_used(self, info: Info) -> JSON:
        rows = await info.context.loader(steps_by_run).load(uuid.UUID(str(self.id)))
        for step in rows:
            if step.stage is PipelineStageEnum.RAG and isinstance(step.output, dict):
                return _json(step.output)
        return _json(None)

    @classmethod
    def from_model(cls, run: PipelineRunModel) -> PipelineTrace:
        return cls(
            id=strawberry.ID(str(run.id)),
            status=run.status,
            provider=run.provider,
            is_offline=run.is_offline,
            started_at=run.started_at,
            finished_at=run.finished_at,
            latency_ms=run.latency_ms,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=float(run.cost_usd),
            decision=_json(run.decision or {}),
            error=run.error,
        )


@strawberry.type(description="A message's photo, video, audio, sticker or document.")
class MessageMedia:
    mime_type: str | None
    caption: str | None
    filename: str | None
    size_bytes: int | None
    url: str | None = strawberry.field(
        description=(
            "Where the bytes are (GET with the bearer token, relative to the API); null when no "
            "copy is kept (too large, or not downloaded from WhatsApp yet)."
        )
    )


@strawberry.type(description="Buttons, a list or a link sent, or the customer's choice.")
class InteractiveSummary:
    kind: str = strawberry.field(
        description="button, list or cta_url (sent); button_reply or list_reply (a choice)."
    )
    body: str | None
    options: list[str] = strawberry.field(
        description="Button titles, list row titles, or the title chosen."
    )
    url: str | None
    url_label: str | None


@strawberry.type(description="The approved template a message was sent with.")
class TemplateUse:
    name: str
    language: str | None
    parameters: list[str] = strawberry.field(description="Its text parameters, in order.")


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    direction: MessageDirection  # type: ignore[valid-type]
    author: MessageAuthor  # type: ignore[valid-type]
    type: MessageKind  # type: ignore[valid-type]
    text: str | None
    status: MessageStatus  # type: ignore[valid-type]
    created_at: dt.datetime
    whatsapp_timestamp: dt.datetime | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    failed_at: dt.datetime | None
    error_code: int | None
    error_title: str | None
    pipeline_run_id: strawberry.Private[uuid.UUID | None]
    author_user_id: strawberry.Private[uuid.UUID | None]
    content: strawberry.Private[dict[str, Any]]
    media_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The media, for a photo, video, audio, sticker or document.")
    async def media(self, info: Info) -> MessageMedia | None:
        summary = media_summary(self.content)
        stored = (
            await info.context.loader(media_by_id).load(self.media_id) if self.media_id else None
        )
        if summary is None and stored is None:
            return None
        mime_type = stored.mime_type if stored else None
        filename = stored.filename if stored else None
        if summary is not None:
            mime_type = mime_type or summary.mime_type
            filename = filename or summary.filename
        return MessageMedia(
            mime_type=mime_type,
            caption=summary.caption if summary else None,
            filename=filename,
            size_bytes=stored.size_bytes if stored else None,
            url=f"/messages/{self.id}/media" if stored and stored.stored else None,
        )

    @strawberry.field(description="Buttons, a list or a link sent, or the customer's choice.")
    def interactive(self) -> InteractiveSummary | None:
        found = interactive_summary(self.content)
        if found is None:
            return None
        return InteractiveSummary(
            kind=found.kind,
            body=found.body,
            options=list(found.options),
            url=found.url,
            url_label=found.url_label,
        )

    @strawberry.field(description="The template, for a message sent with one.")
    def template(self) -> TemplateUse | None:
        found = template_summary(self.content)
        if found is None:
            return None
        return TemplateUse(
            name=found.name, language=found.language, parameters=list(found.parameters)
        )

    @strawberry.field(description="The pipeline run that wrote this bot message.")
    async def trace(self, info: Info) -> PipelineTrace | None:
        if self.author is not MessageAuthorEnum.BOT or self.pipeline_run_id is None:
            return None
        run = await info.context.loader(run_by_id).load(self.pipeline_run_id)
        return PipelineTrace.from_model(run) if run is not None else None

    @strawberry.field(description="The person who wrote a human message.")
    async def sent_by(self, info: Info) -> Person | None:
        if self.author_user_id is None:
            return None
        user = await info.context.loader(user_by_id).load(self.author_user_id)
        if user is None:
            return None
        return Person(id=strawberry.ID(str(user.id)), name=user.name, email=user.email)

    @classmethod
    def from_model(cls, message: MessageModel) -> Message:
        return cls(
            id=strawberry.ID(str(message.id)),
            conversation_id=strawberry.ID(str(message.conversation_id)),
            direction=message.direction,
            author=message.author,
            type=message.type,
            text=message.text,
            status=message.status,
            created_at=message.created_at,
            whatsapp_timestamp=message.whatsapp_timestamp,
            sent_at=message.sent_at,
            delivered_at=message.delivered_at,
            read_at=message.read_at,
            failed_at=message.failed_at,
            error_code=message.error_code,
            error_title=message.error_title,
            pipeline_run_id=message.pipeline_run_id,
            author_user_id=message.author_user_id,
            content=dict(message.content or {}),
            media_id=message.media_id,
        )


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo


@strawberry.type
class Conversation:
    id: strawberry.ID
    mode: ConversationMode  # type: ignore[valid-type]
    stage: ConversationStage  # type: ignore[valid-type]
    intent_level: IntentLevel  # type: ignore[valid-type]
    sentiment: Sentiment  # type: ignore[valid-type]
    needs_attention: bool
    attention_reason: str | None
    attention_raised_at: dt.datetime | None
    last_message_at: dt.datetime | None
    last_message_preview: str | None
    window_expires_at: dt.datetime | None
    human_since: dt.datetime | None
    auto_release_at: dt.datetime | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    channel_id: strawberry.ID
    lead_id: strawberry.Private[uuid.UUID]
    assigned_user_id: strawberry.Private[uuid.UUID | None]
    prefetched_lead: strawberry.Private[Any] = NOT_LOADED
    prefetched_last_message: strawberry.Private[Any] = NOT_LOADED

    @strawberry.field(description="Whether a free-form message can be sent now (24-hour window).")
    def window_open(self) -> bool:
        return self.window_expires_at is not None and self.window_expires_at > dt.datetime.now(
            dt.UTC
        )

    @strawberry.field(
        graphql_type=Lead | None, description="The customer (batched: one query for a whole page)."
    )
    def lead(self, info: Info) -> Any:
        # Sync when the page prefetched it (see ``_prefetch``); otherwise an awaitable from
        # the DataLoader, which graphql-core awaits. Both are one batched query per page.
        if self.prefetched_lead is not NOT_LOADED:
            return Lead.from_model(self.prefetched_lead) if self.prefetched_lead else None
        return self._load_lead(info)

    async def _load_lead(self, info: Info) -> Lead | None:
        lead = await info.context.loader(lead_by_id).load(self.lead_id)
        return Lead.from_model(lead) if lead is not None else None

    @strawberry.field(
        graphql_type=Message | None,
        description="The newest message (batched: one query for a whole page).",
    )
    def last_message(self, info: Info) -> Any:
        if self.prefetched_last_message is not NOT_LOADED:
            message = self.prefetched_last_message
            return Message.from_model(message) if message else None
        return self._load_last_message(info)

    async def _load_last_message(self, info: Info) -> Message | None:
        message = await info.context.loader(last_message_by_conversation).load(
            uuid.UUID(str(self.id))
        )
        return Message.from_model(message) if message is not None else None

    @strawberry.field(
        description=(
            "The customer's messages the caller has not read: stored after they last opened the "
            "conversation (markConversationRead), all of them if they never did. Each operator "
            "has their own. Batched: one query for a whole page."
        )
    )
    async def unread_count(self, info: Info) -> int:
        principal = info.context.principal
        if principal is None or principal.user is None:
            return 0
        return await info.context.loader(unread_by_conversation).load(
            (principal.user.id, uuid.UUID(str(self.id)))
        )

    @strawberry.field(description="The person the conversation is assigned to.")
    async def assigned_to(self, info: Info) -> Person | None:
        if self.assigned_user_id is None:
            return None
        user = await info.context.loader(user_by_id).load(self.assigned_user_id)
        if user is None:
            return None
        return Person(id=strawberry.ID(str(user.id)), name=user.name, email=user.email)

    @strawberry.field(description="Messages, newest first.")
    async def messages(
        self, info: Info, first: int | None = DEFAULT_PAGE, after: str | None = None
    ) -> MessageConnection:
        size = page_size(first)
        key = MessagePageKey(
            conversation_id=uuid.UUID(str(self.id)),
            first=size,
            after=decode_cursor(after) if after else None,
        )
        rows = await info.context.loader(message_pages).load(key)
        page = rows[:size]
        edges = [
            MessageEdge(cursor=encode_cursor(m.created_at, m.id), node=Message.from_model(m))
            for m in page
        ]
        return MessageConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @classmethod
    def from_model(cls, conversation: ConversationModel | ConversationRead) -> Conversation:
        # The row, or the service's read model of it after an action: the same fields.
        return cls(
            id=strawberry.ID(str(conversation.id)),
            mode=conversation.mode,
            stage=conversation.stage,
            intent_level=conversation.intent_level,
            sentiment=conversation.sentiment,
            needs_attention=conversation.needs_attention,
            attention_reason=conversation.attention_reason,
            attention_raised_at=conversation.attention_raised_at,
            last_message_at=conversation.last_message_at,
            last_message_preview=conversation.last_message_preview,
            window_expires_at=conversation.window_expires_at,
            human_since=conversation.human_since,
            auto_release_at=conversation.auto_release_at,
            closed_at=conversation.closed_at,
            created_at=conversation.created_at,
            channel_id=strawberry.ID(str(conversation.channel_id)),
            lead_id=conversation.lead_id,
            assigned_user_id=conversation.assigned_user_id,
        )


@strawberry.type
class ConversationEdge:
    cursor: str
    node: Conversation


@strawberry.type
class ConversationConnection:
    edges: list[ConversationEdge]
    page_info: PageInfo


@strawberry.input
class ConversationFilter:
    mode: ConversationMode | None = None  # type: ignore[valid-type]
    stage: ConversationStage | None = None  # type: ignore[valid-type]
    needs_attention: bool | None = None
    assigned_to: strawberry.ID | None = None
    channel_id: strawberry.ID | None = None
    #: The lead's name or number, or the last message's text.
    search: str | None = None


#: The columns each GraphQL type reads, selected as plain rows: the inbox builds no ORM objects.
CONVERSATION_COLUMNS = (
    "id",
    "mode",
    "stage",
    "intent_level",
    "sentiment",
    "needs_attention",
    "attention_reason",
    "attention_raised_at",
    "last_message_at",
    "last_message_preview",
    "window_expires_at",
    "human_since",
    "auto_release_at",
    "closed_at",
    "created_at",
    "channel_id",
    "lead_id",
    "assigned_user_id",
)
LEAD_COLUMNS = (
    "id",
    "name",
    "wa_id",
    "email",
    "company",
    "language",
    "tags",
    "stage",
    "intent_level",
    "sentiment",
    "opted_out",
    "opted_out_at",
    "last_inbound_at",
    "created_at",
)
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "direction",
    "author",
    "type",
    "text",
    "status",
    "created_at",
    "whatsapp_timestamp",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error_code",
    "error_title",
    "pipeline_run_id",
    "author_user_id",
    "content",
    "media_id",
)


#: The statement's parts that do not change between requests, built once: an alias or a
#: LATERAL subquery built per request would copy its table's columns every time.
_LEAD = aliased(LeadModel, name="lead")
_CONVERSATION_SELECT = tuple(getattr(ConversationModel, name) for name in CONVERSATION_COLUMNS)
_LEAD_SELECT = tuple(getattr(_LEAD, name).label(f"l_{name}") for name in LEAD_COLUMNS)
_LEAD_JOIN = sa.and_(
    _LEAD.organisation_id == ConversationModel.organisation_id,
    _LEAD.id == ConversationModel.lead_id,
)
_LAST_MESSAGE = (
    sa.select(*(getattr(MessageModel, name).label(f"m_{name}") for name in MESSAGE_COLUMNS))
    .where(
        MessageModel.organisation_id == ConversationModel.organisation_id,
        MessageModel.conversation_id == ConversationModel.id,
    )
    .order_by(MessageModel.created_at.desc(), MessageModel.id.desc())
    .limit(1)
    .lateral("last_message")
)
_LAST_MESSAGE_SELECT = tuple(_LAST_MESSAGE.c)


def _inbox_statement(
    organisation_id: uuid.UUID,
    filter: ConversationFilter | None,
    after: tuple[dt.datetime | None, uuid.UUID] | None,
    limit: int,
    *,
    with_lead: bool,
    with_last_message: bool,
) -> sa.Select[Any]:
    """The inbox page: newest activity first (conversations with no message yet last), keyset
    paginated on ``(last_message_at, id)`` so concurrent inserts neither repeat nor skip rows
    (see :func:`funnel.core.conversations.repository.inbox_page`, shared with REST).

    With the page, in the same statement when the query selects them: each conversation's lead
    (on the tenant's ``(organisation_id, id)`` key) and its newest message (a LATERAL top-1 on
    ``messages (organisation_id, conversation_id, created_at)``, whose cost does not grow with
    the conversation's length). The plan walks ``conversations (organisation_id,
    last_message_at DESC NULLS LAST)`` in order through two nested loops and stops at
    ``limit`` rows (after a cursor, bounded by it): one round trip for the whole page.
    """
    c = ConversationModel
    columns: list[Any] = list(_CONVERSATION_SELECT)
    if with_lead:
        columns += _LEAD_SELECT
    if with_last_message:
        columns += _LAST_MESSAGE_SELECT
    source: Any = c
    if with_lead:
        source = sa.outerjoin(source, _LEAD, _LEAD_JOIN)
    if with_last_message:
        source = sa.outerjoin(source, _LAST_MESSAGE, sa.true())
    statement = sa.select(*columns).select_from(source).where(c.organisation_id == organisation_id)
    if filter is not None:
        if filter.mode is not None:
            statement = statement.where(c.mode == filter.mode)
        if filter.stage is not None:
            statement = statement.where(c.stage == filter.stage)
        if filter.needs_attention is not None:
            statement = statement.where(c.needs_attention.is_(filter.needs_attention))
        if filter.assigned_to is not None:
            statement = statement.where(c.assigned_user_id == parse_id(filter.assigned_to))
        if filter.channel_id is not None:
            statement = statement.where(c.channel_id == parse_id(filter.channel_id))
        if filter.search:
            pattern = (
                "%"
                + filter.search.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
                + "%"
            )
            leads = sa.select(LeadModel.id).where(
                LeadModel.organisation_id == organisation_id,
                sa.or_(LeadModel.name.ilike(pattern), LeadModel.wa_id.ilike(pattern)),
            )
            statement = statement.where(
                sa.or_(c.lead_id.in_(leads), c.last_message_preview.ilike(pattern))
            )
    cursor = Cursor(at=after[0], id=after[1]) if after is not None else None
    return inbox_page(statement, cursor, limit)


#: The page's three parts as named tuples, built once (a ``SimpleNamespace`` per part cost four
#: times as much: 150 record objects a page).
_ConversationRecord = namedtuple("_ConversationRecord", CONVERSATION_COLUMNS)  # type: ignore[misc]
_LeadRecord = namedtuple("_LeadRecord", LEAD_COLUMNS)  # type: ignore[misc]
_MessageRecord = namedtuple("_MessageRecord", MESSAGE_COLUMNS)  # type: ignore[misc]


def _record(row: Sequence[Any], start: int, record: Any) -> Any:
    """``record``'s fields read from ``row`` at ``start``: a joined row, or ``None`` when the
    outer join found none (its id is NULL)."""
    if row[start] is None:
        return None
    return record._make(row[start : start + len(record._fields)])


def _selects(selections: Sequence[Any], name: str) -> bool:
    """Whether ``name`` is selected anywhere below, through fragments too."""
    for selection in selections:
        if getattr(selection, "name", None) == name:
            return True
        if _selects(getattr(selection, "selections", None) or (), name):
            return True
    return False


# ------------------------------------------------------------------------------------ roots


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[IsUser],
        description="The inbox: conversations by latest activity, with filters.",
    )
    async def conversations(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
        filter: ConversationFilter | None = None,
    ) -> ConversationConnection:
        size = page_size(first)
        session = info.context.session
        selections = info.selected_fields
        with_lead = _selects(selections, "lead")
        with_last_message = _selects(selections, "lastMessage")
        statement = _inbox_statement(
            current_organisation_id(session),
            filter,
            decode_cursor(after) if after else None,
            size + 1,
            with_lead=with_lead,
            with_last_message=with_last_message,
        )
        rows = list(await session.execute(statement))
        lead_at = len(CONVERSATION_COLUMNS)
        message_at = lead_at + (len(LEAD_COLUMNS) if with_lead else 0)
        edges = []
        for row in rows[:size]:
            conversation = _record(row, 0, _ConversationRecord)
            node = Conversation.from_model(cast(ConversationModel, conversation))
            # The page's relations came with it: the nodes resolve them synchronously, with
            # neither a DataLoader round trip nor a hundred awaitables for graphql-core.
            if with_lead:
                node.prefetched_lead = _record(row, lead_at, _LeadRecord)
            if with_last_message:
                node.prefetched_last_message = _record(row, message_at, _MessageRecord)
            edges.append(
                ConversationEdge(cursor=encode_cursor(node.last_message_at, row.id), node=node)
            )
        return ConversationConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(permission_classes=[IsUser], description="One conversation, by id.")
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        conversation_id = parse_id(id)
        if conversation_id is None:
            return None
        row = await info.context.loader(conversation_by_id).load(conversation_id)
        return Conversation.from_model(row) if row is not None else None

    @strawberry.field(permission_classes=[IsUser], description="One message, by id.")
    async def message(self, info: Info, id: strawberry.ID) -> Message | None:
        message_id = parse_id(id)
        if message_id is None:
            return None
        session = info.context.session
        row = await session.scalar(
            sa.select(MessageModel).where(
                MessageModel.organisation_id == current_organisation_id(session),
                MessageModel.id == message_id,
            )
        )
        return Message.from_model(row) if row is not None else None


# ------------------------------------------------------------------------------------ live


@strawberry.type
class MessageEvent:
    """Messages were stored (or their status changed): ids to refetch, never their content."""

    conversation_id: strawberry.ID
    #: At most 100 per event (the events module's limit): a larger batch arrives as several.
    message_ids: list[strawberry.ID]
    lead_id: strawberry.ID | None

    @classmethod
    def from_event(cls, event: Event) -> MessageEvent | None:
        conversation_id = event.ids.get("conversation_id")
        if not isinstance(conversation_id, str):
            return None
        raw = event.ids.get("message_ids")
        ids = [str(i) for i in raw] if isinstance(raw, list) else []
        single = event.ids.get("message_id")
        if isinstance(single, str):
            ids.append(single)
        lead_id = event.ids.get("lead_id")
        return cls(
            conversation_id=strawberry.ID(conversation_id),
            message_ids=[strawberry.ID(i) for i in ids],
            lead_id=strawberry.ID(lead_id) if isinstance(lead_id, str) else None,
        )


@strawberry.type
class AttentionEvent:
    conversation_id: strawberry.ID


async def _messages(
    info: Info, kind: EventType, conversation_id: strawberry.ID | None
) -> AsyncGenerator[MessageEvent, None]:
    wanted = parse_id(conversation_id)
    if conversation_id is not None and wanted is None:
        # Not an id: nothing can ever match, so end rather than widen to every event.
        return
    async for event in stream(info, [kind], wanted):
        payload = MessageEvent.from_event(event)
        if payload is not None:
            yield payload


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="New messages in the caller's organisation (optionally one conversation).",
    )
    async def message_created(
        self, info: Info, conversation_id: strawberry.ID | None = None
    ) -> AsyncGenerator[MessageEvent, None]:
        async for payload in _messages(info, EventType.MESSAGE_CREATED, conversation_id):
            yield payload

    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="A message's delivery status advanced (sent, delivered, read, failed).",
    )
    async def message_status_changed(
        self, info: Info, conversation_id: strawberry.ID | None = None
    ) -> AsyncGenerator[MessageEvent, None]:
        async for payload in _messages(info, EventType.MESSAGE_STATUS, conversation_id):
            yield payload

    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="A conversation entered or left the attention queue.",
    )
    async def attention_queue_changed(self, info: Info) -> AsyncGenerator[AttentionEvent, None]:
        async for event in stream(info, [EventType.ATTENTION_CHANGED]):
            conversation_id = event.ids.get("conversation_id")
            if isinstance(conversation_id, str):
                yield AttentionEvent(conversation_id=strawberry.ID(conversation_id))
