"""Quick replies: saved replies agents insert from the inbox composer. Listed for every member,
created, changed and deleted by admins, through :mod:`funnel.core.quick_replies.service` (what
REST's ``/quick-replies`` calls)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql._common import (
    ADMIN,
    VIEWER,
    Deleted,
    actor,
    not_found,
    parse_uuid,
    refused,
)
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    LimitError,
    NotFoundError,
    ValidationError,
)
from funnel.core.errors import FunnelError
from funnel.core.quick_replies import service
from funnel.core.quick_replies.schemas import QuickReplyCreate, QuickReplyRead, QuickReplyUpdate


@strawberry.type(description="A saved reply (title and text) agents insert from the composer.")
class QuickReply:
    id: strawberry.ID
    title: str
    text: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_read(cls, q: QuickReplyRead) -> QuickReply:
        return cls(
            id=strawberry.ID(str(q.id)),
            title=q.title,
            text=q.text,
            created_at=q.created_at,
            updated_at=q.updated_at,
        )


@strawberry.input
class QuickReplyInput:
    title: str
    text: str


@strawberry.input
class QuickReplyUpdateInput:
    title: str | None = strawberry.UNSET
    text: str | None = strawberry.UNSET


QuickReplyResult = Annotated[
    QuickReply | LimitError | NotFoundError | ConflictError | ForbiddenError | ValidationError,
    strawberry.union("QuickReplyResult"),
]
DeleteQuickReplyResult = Annotated[
    Deleted | NotFoundError | ForbiddenError, strawberry.union("DeleteQuickReplyResult")
]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=VIEWER, description="The organisation's quick replies.")
    async def quick_replies(self, info: Info) -> list[QuickReply]:
        rows = await service.list_quick_replies(info.context.session)
        return [QuickReply.from_read(q) for q in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=ADMIN, description="Create a quick reply.")
    async def create_quick_reply(self, info: Info, input: QuickReplyInput) -> QuickReplyResult:
        try:
            body = QuickReplyCreate.model_validate(vars(input))
            created = await service.create_quick_reply(info.context.session, actor(info), body)
        except (FunnelError, PydanticValidationError) as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return QuickReply.from_read(created)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Change a quick reply's title or text; fields left out are unchanged.",
    )
    async def update_quick_reply(
        self, info: Info, id: strawberry.ID, input: QuickReplyUpdateInput
    ) -> QuickReplyResult:
        quick_reply_id = parse_uuid(id)
        if quick_reply_id is None:
            return not_found(info, "quick reply not found")
        values = {k: v for k, v in vars(input).items() if v is not strawberry.UNSET}
        try:
            # Not found before invalid: another organisation's id gets the same answer either way.
            await service.get_quick_reply(info.context.session, quick_reply_id)
            body = QuickReplyUpdate.model_validate(values)
            updated = await service.update_quick_reply(
                info.context.session, actor(info), quick_reply_id, body
            )
        except (FunnelError, PydanticValidationError) as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return QuickReply.from_read(updated)

    @strawberry.mutation(permission_classes=ADMIN, description="Delete a quick reply.")
    async def delete_quick_reply(self, info: Info, id: strawberry.ID) -> DeleteQuickReplyResult:
        quick_reply_id = parse_uuid(id)
        if quick_reply_id is None:
            return not_found(info, "quick reply not found")
        try:
            await service.delete_quick_reply(info.context.session, actor(info), quick_reply_id)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Deleted(id=id)
