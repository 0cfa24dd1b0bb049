"""Operator actions on a conversation: takeover, release, assign, close, resolve attention,
start follow-ups.

Each calls the one function :mod:`funnel.core.conversations.service` has for it (REST calls the
same), which locks the row, audits, and emits ``conversation.updated`` (and
``attention.changed``) in the request's transaction. Expected refusals (closed, not in human
mode, an assignee who is not a member) are union members, and nothing is committed for them.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    expected_failure,
)
from funnel.api.graphql.inbox import Conversation, parse_id
from funnel.api.graphql.permissions import HasRole
from funnel.core.audit.writer import Actor
from funnel.core.conversations import service as conversations
from funnel.core.conversations.schemas import ConversationRead
from funnel.core.errors import FunnelError, NotFound
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.telemetry import correlation_id

ConversationActionResult = Annotated[
    Conversation | NotFoundError | ConflictError | ValidationError | ForbiddenError,
    strawberry.union("ConversationActionResult"),
]

#: Operators act on conversations; viewers only read them.
AGENT: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.AGENT)]
#: Reading is personal: every member has their own read markers.
VIEWER: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.VIEWER)]


def _actor(info: Info) -> Actor:
    principal = info.context.require_principal()
    return Actor(
        organisation_id=principal.organisation_id,
        kind=ActorKind.USER,
        user_id=principal.user.id if principal.user else None,
        correlation_id=correlation_id(),
    )


def _conversation_id(value: strawberry.ID) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise NotFound("conversation not found")
    return parsed


def _result(read: ConversationRead) -> Conversation:
    return Conversation.from_model(read)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=AGENT,
        description="Take the conversation from the bot (assigned to the caller by default).",
    )
    async def takeover(
        self, info: Info, conversation_id: strawberry.ID, assign_to_me: bool = True
    ) -> ConversationActionResult:
        principal = info.context.require_principal()
        user_id = principal.user.id if assign_to_me and principal.user else None
        try:
            read = await conversations.takeover(
                info.context.session, _actor(info), _conversation_id(conversation_id), user_id
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)

    @strawberry.mutation(permission_classes=AGENT, description="Hand the conversation back.")
    async def release(self, info: Info, conversation_id: strawberry.ID) -> ConversationActionResult:
        try:
            read = await conversations.release(
                info.context.session, _actor(info), _conversation_id(conversation_id)
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)

    @strawberry.mutation(
        permission_classes=AGENT,
        description="Assign to a member of the organisation (or unassign with userId null).",
    )
    async def assign(
        self, info: Info, conversation_id: strawberry.ID, user_id: strawberry.ID | None = None
    ) -> ConversationActionResult:
        assignee: uuid.UUID | None = None
        if user_id is not None:
            assignee = parse_id(user_id)
            if assignee is None:
                info.context.failed = True
                return ValidationError(message="not a user id", code="validation_failed")
        try:
            read = await conversations.assign(
                info.context.session, _actor(info), _conversation_id(conversation_id), assignee
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)

    @strawberry.mutation(
        permission_classes=AGENT,
        description="Close the thread; the lead's next message opens a new one.",
    )
    async def close(self, info: Info, conversation_id: strawberry.ID) -> ConversationActionResult:
        try:
            read = await conversations.close(
                info.context.session, _actor(info), _conversation_id(conversation_id)
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)

    @strawberry.mutation(
        permission_classes=AGENT, description="Take the conversation out of the attention queue."
    )
    async def resolve_attention(
        self, info: Info, conversation_id: strawberry.ID
    ) -> ConversationActionResult:
        try:
            read = await conversations.resolve_attention(
                info.context.session, _actor(info), _conversation_id(conversation_id)
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)

    @strawberry.mutation(
        permission_classes=AGENT,
        description=(
            "Start a follow-up sequence now (meant for manual ones), replacing the follow-ups "
            "pending on the conversation. A ConflictError says why no step could go out."
        ),
    )
    async def start_followups(
        self, info: Info, conversation_id: strawberry.ID, sequence_id: strawberry.ID
    ) -> ConversationActionResult:
        sequence = parse_id(sequence_id)
        try:
            if sequence is None:
                raise NotFound("follow-up sequence not found")
            read = await conversations.start_followups(
                info.context.session, _actor(info), _conversation_id(conversation_id), sequence
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)

    @strawberry.mutation(
        permission_classes=VIEWER,
        description=(
            "The caller has read the conversation: its customer messages so far stop counting "
            "in their unreadCount (nobody else's)."
        ),
    )
    async def mark_conversation_read(
        self, info: Info, conversation_id: strawberry.ID
    ) -> ConversationActionResult:
        principal = info.context.require_principal()
        assert principal.user is not None  # HasRole admits members only
        try:
            read = await conversations.mark_read(
                info.context.session, principal.user.id, _conversation_id(conversation_id)
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return _result(read)
