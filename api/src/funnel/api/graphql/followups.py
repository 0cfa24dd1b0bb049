"""Follow-up sequences: list, one, create, replace whole and delete, through
:mod:`funnel.core.sequences.service` (what REST's ``/followup-sequences`` calls)."""

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
    limit_error,
)
from funnel.core.errors import FunnelError, NotFound
from funnel.core.models.enums import FollowupTrigger as FollowupTriggerEnum
from funnel.core.sequences import service
from funnel.core.sequences.schemas import SequenceRead, SequenceWrite

FollowupTrigger = strawberry.enum(FollowupTriggerEnum, name="FollowupTrigger")


@strawberry.type
class FollowupStep:
    position: int
    delay_minutes: int
    message_hint: str | None
    template_id: strawberry.ID | None


@strawberry.type
class FollowupSequence:
    id: strawberry.ID
    name: str
    trigger: FollowupTrigger  # type: ignore[valid-type]
    is_active: bool
    steps: list[FollowupStep]
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_read(cls, s: SequenceRead) -> FollowupSequence:
        return cls(
            id=strawberry.ID(str(s.id)),
            name=s.name,
            trigger=s.trigger,
            is_active=s.is_active,
            steps=[
                FollowupStep(
                    position=step.position,
                    delay_minutes=step.delay_minutes,
                    message_hint=step.message_hint,
                    template_id=strawberry.ID(str(step.template_id)) if step.template_id else None,
                )
                for step in s.steps
            ],
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


@strawberry.input
class FollowupStepInput:
    delay_minutes: int
    message_hint: str | None = None
    template_id: strawberry.ID | None = None


@strawberry.input
class FollowupSequenceInput:
    name: str
    steps: list[FollowupStepInput]
    trigger: FollowupTrigger = FollowupTriggerEnum.NO_REPLY  # type: ignore[valid-type]
    is_active: bool = True


FollowupSequenceResult = Annotated[
    FollowupSequence
    | LimitError
    | NotFoundError
    | ConflictError
    | ForbiddenError
    | ValidationError,
    strawberry.union("FollowupSequenceResult"),
]
DeleteFollowupSequenceResult = Annotated[
    Deleted | NotFoundError | ForbiddenError, strawberry.union("DeleteFollowupSequenceResult")
]


def _body(input: FollowupSequenceInput) -> SequenceWrite:
    return SequenceWrite.model_validate(
        {
            "name": input.name,
            "trigger": input.trigger,
            "is_active": input.is_active,
            "steps": [
                {
                    "delay_minutes": s.delay_minutes,
                    "message_hint": s.message_hint,
                    "template_id": s.template_id,
                }
                for s in input.steps
            ],
        }
    )


@strawberry.type
class Query:
    @strawberry.field(permission_classes=VIEWER, description="Follow-up sequences by name.")
    async def followup_sequences(self, info: Info) -> list[FollowupSequence]:
        rows = await service.list_sequences(info.context.session)
        return [FollowupSequence.from_read(s) for s in rows]

    @strawberry.field(permission_classes=VIEWER, description="One follow-up sequence, or null.")
    async def followup_sequence(self, info: Info, id: strawberry.ID) -> FollowupSequence | None:
        sequence_id = parse_uuid(id)
        if sequence_id is None:
            return None
        try:
            read = await service.get_sequence(info.context.session, sequence_id)
        except NotFound:
            return None
        return FollowupSequence.from_read(read)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Create a follow-up sequence; active, it replaces the active one of its "
        "trigger.",
    )
    async def create_followup_sequence(
        self, info: Info, input: FollowupSequenceInput
    ) -> FollowupSequenceResult:
        try:
            body = _body(input)
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        try:
            created = await service.create_sequence(info.context.session, actor(info), body)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return FollowupSequence.from_read(created)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Replace a follow-up sequence whole: name, trigger, active flag and steps.",
    )
    async def replace_followup_sequence(
        self, info: Info, id: strawberry.ID, input: FollowupSequenceInput
    ) -> FollowupSequenceResult:
        sequence_id = parse_uuid(id)
        if sequence_id is None:
            return not_found(info, "follow-up sequence not found")
        try:
            # Not found before invalid: another organisation's id gets the same answer either way.
            await service.get_sequence(info.context.session, sequence_id)
            body = _body(input)
            replaced = await service.replace_sequence(
                info.context.session, actor(info), sequence_id, body
            )
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return FollowupSequence.from_read(replaced)

    @strawberry.mutation(permission_classes=ADMIN, description="Delete a follow-up sequence.")
    async def delete_followup_sequence(
        self, info: Info, id: strawberry.ID
    ) -> DeleteFollowupSequenceResult:
        sequence_id = parse_uuid(id)
        if sequence_id is None:
            return not_found(info, "follow-up sequence not found")
        try:
            await service.delete_sequence(info.context.session, actor(info), sequence_id)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Deleted(id=id)
