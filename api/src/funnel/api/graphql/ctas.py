"""Calls to action the bot may offer: list, one, create, change (activate and deactivate
included) and delete, through :mod:`funnel.core.ctas.service` (what REST's ``/ctas`` calls)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from pydantic import ValidationError as PydanticValidationError
from strawberry.scalars import JSON

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
from funnel.core.ctas import service
from funnel.core.ctas.schemas import CtaCreate, CtaRead, CtaUpdate
from funnel.core.errors import FunnelError, NotFound
from funnel.core.models.enums import CtaType as CtaTypeEnum

CtaType = strawberry.enum(CtaTypeEnum, name="CtaType")


@strawberry.type
class Cta:
    id: strawberry.ID
    type: CtaType  # type: ignore[valid-type]
    name: str
    description: str | None
    url: str | None
    button_text: str | None
    payload: JSON
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_read(cls, c: CtaRead) -> Cta:
        return cls(
            id=strawberry.ID(str(c.id)),
            type=c.type,
            name=c.name,
            description=c.description,
            url=c.url,
            button_text=c.button_text,
            payload=cast(JSON, c.payload),
            is_active=c.is_active,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


@strawberry.input
class CtaCreateInput:
    type: CtaType  # type: ignore[valid-type]
    name: str
    description: str | None = None
    url: str | None = None
    button_text: str | None = None
    payload: JSON | None = None
    is_active: bool = True


@strawberry.input
class CtaUpdateInput:
    type: CtaType | None = strawberry.UNSET  # type: ignore[valid-type]
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    button_text: str | None = strawberry.UNSET
    payload: JSON | None = strawberry.UNSET
    is_active: bool | None = strawberry.UNSET


CtaResult = Annotated[
    Cta | LimitError | NotFoundError | ConflictError | ForbiddenError | ValidationError,
    strawberry.union("CtaResult"),
]
DeleteCtaResult = Annotated[
    Deleted | NotFoundError | ForbiddenError, strawberry.union("DeleteCtaResult")
]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=VIEWER, description="CTAs by name.")
    async def ctas(self, info: Info, active_only: bool = False) -> list[Cta]:
        rows = await service.list_ctas(info.context.session, include_inactive=not active_only)
        return [Cta.from_read(c) for c in rows]

    @strawberry.field(permission_classes=VIEWER, description="One CTA, or null.")
    async def cta(self, info: Info, id: strawberry.ID) -> Cta | None:
        cta_id = parse_uuid(id)
        if cta_id is None:
            return None
        try:
            return Cta.from_read(await service.get_cta(info.context.session, cta_id))
        except NotFound:
            return None


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=ADMIN, description="Create a CTA.")
    async def create_cta(self, info: Info, input: CtaCreateInput) -> CtaResult:
        values = {k: v for k, v in vars(input).items() if v is not None}
        try:
            body = CtaCreate.model_validate(values)
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        try:
            return Cta.from_read(await service.create_cta(info.context.session, actor(info), body))
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Change a CTA (isActive: false deactivates it); fields left out are unchanged.",
    )
    async def update_cta(
        self, info: Info, id: strawberry.ID, input: CtaUpdateInput | None = None
    ) -> CtaResult:
        cta_id = parse_uuid(id)
        if cta_id is None:
            return not_found(info, "CTA not found")
        values = {
            k: v for k, v in (vars(input) if input else {}).items() if v is not strawberry.UNSET
        }
        try:
            # Not found before invalid: another organisation's id gets the same answer either way.
            await service.get_cta(info.context.session, cta_id)
            body = CtaUpdate.model_validate(values)
            updated = await service.update_cta(info.context.session, actor(info), cta_id, body)
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Cta.from_read(updated)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Activate or deactivate a CTA (the bot offers active ones only).",
    )
    async def set_cta_active(self, info: Info, id: strawberry.ID, active: bool) -> CtaResult:
        cta_id = parse_uuid(id)
        if cta_id is None:
            return not_found(info, "CTA not found")
        try:
            updated = await service.update_cta(
                info.context.session, actor(info), cta_id, CtaUpdate(is_active=active)
            )
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Cta.from_read(updated)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Delete a CTA (soft: conversations keep their history).",
    )
    async def delete_cta(self, info: Info, id: strawberry.ID) -> DeleteCtaResult:
        cta_id = parse_uuid(id)
        if cta_id is None:
            return not_found(info, "CTA not found")
        try:
            await service.delete_cta(info.context.session, actor(info), cta_id)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Deleted(id=id)
