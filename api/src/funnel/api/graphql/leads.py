"""Leads: the keyset-paginated list with filters and search, one lead with its conversations and
notes, and the changes an operator makes (update, tags, notes, opt-out, GDPR erase), through
:mod:`funnel.core.leads.service` exactly as REST's ``/leads`` does, with the same roles."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import sqlalchemy as sa
import strawberry
from graphql import GraphQLError
from pydantic import ValidationError as PydanticValidationError
from strawberry.permission import BasePermission

from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    expected_failure,
)
from funnel.api.graphql.inbox import Conversation as ConversationNode
from funnel.api.graphql.inbox import (
    ConversationConnection,
    ConversationEdge,
    ConversationStage,
    IntentLevel,
    Lead,
    PageInfo,
    Sentiment,
    encode_cursor,
    page_size,
    parse_id,
)
from funnel.api.graphql.permissions import HasRole, IsUser
from funnel.core.audit.writer import Actor
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.errors import FunnelError, NotFound
from funnel.core.leads import service as leads
from funnel.core.leads.pagination import Cursor
from funnel.core.leads.schemas import LeadFilters, LeadUpdate, NoteCreate, NoteRead, TagsChange
from funnel.core.models import Conversation as ConversationModel
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.telemetry import correlation_id

AGENT: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.AGENT)]
ADMIN: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.ADMIN)]
#: A lead has a handful of conversations (one open at a time); this bounds the page anyway.
LEAD_CONVERSATIONS_MAX = 100


@strawberry.type
class Note:
    id: strawberry.ID
    body: str
    author_user_id: strawberry.ID | None
    created_at: dt.datetime

    @classmethod
    def from_read(cls, note: NoteRead) -> Note:
        return cls(
            id=strawberry.ID(str(note.id)),
            body=note.body,
            author_user_id=strawberry.ID(str(note.author_user_id)) if note.author_user_id else None,
            created_at=note.created_at,
        )


@strawberry.type
class LeadDetail:
    lead: Lead

    @strawberry.field(description="The lead's conversations, newest first.")
    async def conversations(self, info: Info, first: int | None = 20) -> ConversationConnection:
        size = page_size(first)
        session = info.context.session
        rows = list(
            await session.scalars(
                sa.select(ConversationModel)
                .where(
                    ConversationModel.organisation_id == current_organisation_id(session),
                    ConversationModel.lead_id == uuid.UUID(str(self.lead.id)),
                )
                .order_by(ConversationModel.created_at.desc(), ConversationModel.id.desc())
                .limit(size + 1)
            )
        )
        edges = [
            ConversationEdge(
                cursor=encode_cursor(r.created_at, r.id), node=ConversationNode.from_model(r)
            )
            for r in rows[:size]
        ]
        return ConversationConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(description="Notes, newest first (at most `first`).")
    async def notes(self, info: Info, first: int | None = 20) -> list[Note]:
        size = page_size(first)
        notes = await leads.list_notes(info.context.session, uuid.UUID(str(self.lead.id)))
        return [Note.from_read(n) for n in notes[:size]]


@strawberry.type
class LeadEdge:
    cursor: str
    node: Lead


@strawberry.type
class LeadConnection:
    edges: list[LeadEdge]
    page_info: PageInfo


@strawberry.input
class LeadFilter:
    stage: ConversationStage | None = None  # type: ignore[valid-type]
    intent_level: IntentLevel | None = None  # type: ignore[valid-type]
    sentiment: Sentiment | None = None  # type: ignore[valid-type]
    tag: str | None = None
    opted_out: bool | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    #: Name, number, email or company.
    search: str | None = None


@strawberry.input
class LeadInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    stage: ConversationStage | None = strawberry.UNSET  # type: ignore[valid-type]


@strawberry.type
class Erased:
    lead_id: strawberry.ID
    conversations: int
    messages: int


LeadResult = Annotated[
    Lead | NotFoundError | ValidationError | ConflictError | ForbiddenError,
    strawberry.union("LeadResult"),
]
NoteResult = Annotated[
    Note | NotFoundError | ValidationError | ConflictError | ForbiddenError,
    strawberry.union("NoteResult"),
]
EraseLeadResult = Annotated[
    Erased | NotFoundError | ValidationError | ConflictError | ForbiddenError,
    strawberry.union("EraseLeadResult"),
]


def _actor(info: Info) -> Actor:
    principal = info.context.require_principal()
    return Actor(
        organisation_id=principal.organisation_id,
        kind=ActorKind.USER,
        user_id=principal.user.id if principal.user else None,
        correlation_id=correlation_id(),
    )


def _lead_id(value: strawberry.ID) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound("lead not found")
    return parsed


def _invalid(info: Info, exc: PydanticValidationError) -> ValidationError:
    info.context.failed = True
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error.get("loc", ()))
    return ValidationError(message=f"{field}: {error['msg']}", code="validation_failed")


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsUser], description="Leads, newest first, filtered.")
    async def leads(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: LeadFilter | None = None,
    ) -> LeadConnection:
        size = page_size(first)
        try:
            filters = LeadFilters.model_validate(vars(filter) if filter else {})
            page = await leads.list_leads(info.context.session, filters, cursor=after, limit=size)
        except (FunnelError, PydanticValidationError) as exc:
            raise GraphQLError("invalid filter or cursor") from exc
        edges = [
            LeadEdge(cursor=Cursor(item.created_at, item.id).encode(), node=Lead.from_model(item))
            for item in page.items
        ]
        return LeadConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None, end_cursor=page.next_cursor
            ),
        )

    @strawberry.field(permission_classes=[IsUser], description="One lead, by id.")
    async def lead(self, info: Info, id: strawberry.ID) -> LeadDetail | None:
        lead_id = parse_id(id)
        if lead_id is None:
            return None
        try:
            read = await leads.get_lead(info.context.session, lead_id)
        except NotFound:
            return None
        return LeadDetail(lead=Lead.from_model(read))


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=AGENT, description="Change a lead's details.")
    async def update_lead(
        self, info: Info, id: strawberry.ID, input: LeadInput | None = None
    ) -> LeadResult:
        # Fields left out (or no input at all) are unchanged.
        fields = vars(input).items() if input is not None else ()
        values = {k: v for k, v in fields if v is not strawberry.UNSET}
        try:
            update = LeadUpdate.model_validate(values)
        except PydanticValidationError as exc:
            return _invalid(info, exc)
        try:
            read = await leads.update_lead(info.context.session, _actor(info), _lead_id(id), update)
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Lead.from_model(read)

    @strawberry.mutation(
        permission_classes=AGENT, description="Do not contact: no proactive message is sent."
    )
    async def opt_out_lead(self, info: Info, id: strawberry.ID) -> LeadResult:
        try:
            read = await leads.update_lead(
                info.context.session, _actor(info), _lead_id(id), LeadUpdate(opted_out=True)
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Lead.from_model(read)

    @strawberry.mutation(permission_classes=AGENT, description="Add and/or remove tags.")
    async def tag_lead(
        self,
        info: Info,
        id: strawberry.ID,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> LeadResult:
        try:
            added = TagsChange(tags=add) if add else None
            removed = TagsChange(tags=remove) if remove else None
        except PydanticValidationError as exc:
            return _invalid(info, exc)
        try:
            lead_id = _lead_id(id)
            read = await leads.get_lead(info.context.session, lead_id)
            if added is not None:
                read = await leads.add_tags(info.context.session, lead_id, added.tags)
            if removed is not None:
                read = await leads.remove_tags(info.context.session, lead_id, removed.tags)
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Lead.from_model(read)

    @strawberry.mutation(permission_classes=AGENT, description="A note by the caller.")
    async def add_lead_note(self, info: Info, id: strawberry.ID, body: str) -> NoteResult:
        try:
            note = NoteCreate(body=body)
        except PydanticValidationError as exc:
            return _invalid(info, exc)
        principal = info.context.require_principal()
        try:
            read = await leads.add_note(
                info.context.session,
                _lead_id(id),
                principal.user.id if principal.user else None,
                note,
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Note.from_read(read)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="GDPR erasure: the lead and everything derived from it, audited.",
    )
    async def erase_lead(self, info: Info, id: strawberry.ID) -> EraseLeadResult:
        try:
            report = await leads.erase_lead(info.context.session, _actor(info), _lead_id(id))
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Erased(lead_id=id, conversations=report.conversations, messages=report.messages)
