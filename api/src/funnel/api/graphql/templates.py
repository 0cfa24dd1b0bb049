"""Message templates: the list and one template, local drafts checked against Meta's limits,
submission, status sync, resubmission of a rejected one and deletion, through
:mod:`funnel.core.templates.service` (what REST's ``/templates`` calls). Meta-limit refusals
are a typed ``LimitError`` listing every problem; Graph API failures an ``UpstreamError``.
``templateStatusChanged`` reports status changes (Meta's review webhook, a sync, a submission)
as they commit."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator
from typing import Annotated, Any, cast

import strawberry
from pydantic import ValidationError as PydanticValidationError
from strawberry.scalars import JSON

from funnel.api.graphql._common import ADMIN, VIEWER, Deleted, actor, parse_uuid, refused
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    LimitError,
    NotFoundError,
    UpstreamError,
    ValidationError,
    limit_error,
)
from funnel.api.graphql.live import stream
from funnel.api.graphql.permissions import IsAuthenticated
from funnel.api.routers.settings import graph_factory
from funnel.core.errors import FunnelError, NotFound
from funnel.core.events import Event, EventType
from funnel.core.models.enums import (
    TemplateCategory as TemplateCategoryEnum,
)
from funnel.core.models.enums import (
    TemplateParameterFormat as TemplateParameterFormatEnum,
)
from funnel.core.models.enums import (
    TemplatePurpose as TemplatePurposeEnum,
)
from funnel.core.models.enums import (
    TemplateStatus as TemplateStatusEnum,
)
from funnel.core.templates import service
from funnel.core.templates.schemas import TemplateCreate, TemplateRead, TemplateUpdate

TemplateCategory = strawberry.enum(TemplateCategoryEnum, name="TemplateCategory")
TemplateStatus = strawberry.enum(TemplateStatusEnum, name="TemplateStatus")
TemplateParameterFormat = strawberry.enum(
    TemplateParameterFormatEnum, name="TemplateParameterFormat"
)
TemplatePurpose = strawberry.enum(TemplatePurposeEnum, name="TemplatePurpose")


@strawberry.type
class Template:
    id: strawberry.ID
    name: str
    language: str
    category: TemplateCategory  # type: ignore[valid-type]
    status: TemplateStatus  # type: ignore[valid-type]
    parameter_format: TemplateParameterFormat  # type: ignore[valid-type]
    purpose: TemplatePurpose | None  # type: ignore[valid-type]
    #: Meta's component list (HEADER, BODY, FOOTER, BUTTONS) with the review examples.
    components: list[JSON]
    meta_template_id: str | None
    quality_score: str | None
    rejection_reason: str | None
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    last_synced_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_read(cls, t: TemplateRead) -> Template:
        return cls(
            id=strawberry.ID(str(t.id)),
            name=t.name,
            language=t.language,
            category=t.category,
            status=t.status,
            parameter_format=t.parameter_format,
            purpose=t.purpose,
            components=[cast(JSON, c) for c in t.components],
            meta_template_id=t.meta_template_id,
            quality_score=t.quality_score,
            rejection_reason=t.rejection_reason,
            submitted_at=t.submitted_at,
            approved_at=t.approved_at,
            last_synced_at=t.last_synced_at,
            created_at=t.created_at,
            updated_at=t.updated_at,
        )


@strawberry.type
class TemplateSyncReport:
    updated: int
    imported: int


@strawberry.enum
class TemplateHeaderFormat(enum.Enum):
    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    DOCUMENT = "DOCUMENT"


@strawberry.enum
class TemplateButtonType(enum.Enum):
    QUICK_REPLY = "QUICK_REPLY"
    URL = "URL"
    PHONE_NUMBER = "PHONE_NUMBER"


@strawberry.input
class TemplateHeaderInput:
    format: TemplateHeaderFormat = TemplateHeaderFormat.TEXT
    text: str | None = None
    #: Text headers: one value per placeholder. Media headers: a sample media handle.
    examples: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class TemplateButtonInput:
    type: TemplateButtonType
    text: str
    url: str | None = None
    phone_number: str | None = None
    example: str | None = None


@strawberry.input
class NamedExampleInput:
    name: str
    value: str


@strawberry.input
class TemplateContentInput:
    header: TemplateHeaderInput | None = None
    body: str
    #: Positional templates: one example per ``{{n}}``, in order.
    body_examples: list[str] | None = None
    #: Named templates: an example per ``{{name}}``.
    body_named_examples: list[NamedExampleInput] | None = None
    footer: str | None = None
    buttons: list[TemplateButtonInput] = strawberry.field(default_factory=list)


@strawberry.input
class TemplateCreateInput:
    name: str
    language: str
    category: TemplateCategory  # type: ignore[valid-type]
    parameter_format: TemplateParameterFormat = (  # type: ignore[valid-type]
        TemplateParameterFormatEnum.POSITIONAL
    )
    purpose: TemplatePurpose | None = None  # type: ignore[valid-type]
    content: TemplateContentInput


@strawberry.input
class TemplateUpdateInput:
    category: TemplateCategory | None = strawberry.UNSET  # type: ignore[valid-type]
    parameter_format: TemplateParameterFormat | None = strawberry.UNSET  # type: ignore[valid-type]
    purpose: TemplatePurpose | None = strawberry.UNSET  # type: ignore[valid-type]
    content: TemplateContentInput | None = strawberry.UNSET


def _content(content: TemplateContentInput) -> dict[str, Any]:
    examples: list[str] | dict[str, str] = list(content.body_examples or [])
    if content.body_named_examples:
        examples = {e.name: e.value for e in content.body_named_examples}
    out: dict[str, Any] = {
        "body": content.body,
        "body_examples": examples,
        "buttons": [
            {
                key: value
                for key, value in {
                    "type": b.type.value,
                    "text": b.text,
                    "url": b.url,
                    "phone_number": b.phone_number,
                    "example": b.example,
                }.items()
                if value is not None
            }
            for b in content.buttons
        ],
    }
    if content.footer is not None:
        out["footer"] = content.footer
    if content.header is not None:
        out["header"] = {
            "format": content.header.format.value,
            "text": content.header.text,
            "examples": content.header.examples,
        }
    return out


TemplateResult = Annotated[
    Template
    | LimitError
    | NotFoundError
    | ConflictError
    | UpstreamError
    | ForbiddenError
    | ValidationError,
    strawberry.union("TemplateResult"),
]
SyncTemplatesResult = Annotated[
    TemplateSyncReport | ConflictError | UpstreamError | ForbiddenError,
    strawberry.union("SyncTemplatesResult"),
]
DeleteTemplateResult = Annotated[
    Deleted | NotFoundError | ConflictError | UpstreamError | ForbiddenError,
    strawberry.union("DeleteTemplateResult"),
]


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=VIEWER,
        description="Templates by name and language, optionally filtered.",
    )
    async def templates(
        self,
        info: Info,
        status: TemplateStatus | None = None,  # type: ignore[valid-type]
        category: TemplateCategory | None = None,  # type: ignore[valid-type]
        language: str | None = None,
    ) -> list[Template]:
        rows = await service.list_templates(info.context.session)
        return [
            Template.from_read(t)
            for t in rows
            if (status is None or t.status is status)
            and (category is None or t.category is category)
            and (language is None or t.language == language)
        ]

    @strawberry.field(permission_classes=VIEWER, description="One template, or null.")
    async def template(self, info: Info, id: strawberry.ID) -> Template | None:
        template_id = parse_uuid(id)
        if template_id is None:
            return None
        try:
            return Template.from_read(await service.get_template(info.context.session, template_id))
        except NotFound:
            return None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN, description="Create a draft, checked against Meta's limits."
    )
    async def create_template(self, info: Info, input: TemplateCreateInput) -> TemplateResult:
        try:
            body = TemplateCreate.model_validate(
                {
                    "name": input.name,
                    "language": input.language,
                    "category": input.category,
                    "parameter_format": input.parameter_format,
                    "purpose": input.purpose,
                    "content": _content(input.content),
                }
            )
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        try:
            created = await service.create_template(info.context.session, actor(info), body)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Template.from_read(created)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description=(
            "Edit a template: its content only in draft, rejected or paused (Meta's rule), "
            "its purpose always. Fields left out are unchanged."
        ),
    )
    async def update_template(
        self, info: Info, id: strawberry.ID, input: TemplateUpdateInput | None = None
    ) -> TemplateResult:
        template_id = parse_uuid(id)
        if template_id is None:
            info.context.failed = True
            return NotFoundError(message="template not found", code="not_found")
        values: dict[str, Any] = {}
        if input is not None:
            for key in ("category", "parameter_format", "purpose"):
                value = getattr(input, key)
                if value is not strawberry.UNSET:
                    values[key] = value
            if input.content is not strawberry.UNSET:
                values["content"] = _content(input.content) if input.content else None
        try:
            await service.get_template(info.context.session, template_id)
            update = TemplateUpdate.model_validate(values)
            updated = await service.update_template(
                info.context.session, actor(info), template_id, update
            )
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Template.from_read(updated)

    @strawberry.mutation(permission_classes=ADMIN, description="Submit a draft to Meta.")
    async def submit_template(self, info: Info, id: strawberry.ID) -> TemplateResult:
        template_id = parse_uuid(id)
        if template_id is None:
            info.context.failed = True
            return NotFoundError(message="template not found", code="not_found")
        resources = info.context.resources
        try:
            submitted = await service.submit_template(
                info.context.session,
                actor(info),
                resources.secret_box,
                graph_factory(resources),
                template_id,
            )
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Template.from_read(submitted)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Send a rejected template, edited since, back to Meta for review.",
    )
    async def resubmit_template(self, info: Info, id: strawberry.ID) -> TemplateResult:
        template_id = parse_uuid(id)
        if template_id is None:
            info.context.failed = True
            return NotFoundError(message="template not found", code="not_found")
        resources = info.context.resources
        try:
            resubmitted = await service.resubmit_template(
                info.context.session,
                actor(info),
                resources.secret_box,
                graph_factory(resources),
                template_id,
            )
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Template.from_read(resubmitted)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Bring statuses in line with Meta's; imports templates made elsewhere.",
    )
    async def sync_templates(self, info: Info) -> SyncTemplatesResult:
        resources = info.context.resources
        try:
            report = await service.sync_templates(
                info.context.session, actor(info), resources.secret_box, graph_factory(resources)
            )
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return TemplateSyncReport(updated=report.updated, imported=report.imported)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Delete (on Meta too, once submitted); an approved one needs confirm: true.",
    )
    async def delete_template(
        self, info: Info, id: strawberry.ID, confirm: bool = False
    ) -> DeleteTemplateResult:
        template_id = parse_uuid(id)
        if template_id is None:
            info.context.failed = True
            return NotFoundError(message="template not found", code="not_found")
        resources = info.context.resources
        try:
            await service.delete_template(
                info.context.session,
                actor(info),
                resources.secret_box,
                graph_factory(resources),
                template_id,
                confirm=confirm,
            )
        except FunnelError as exc:
            return refused(info, exc)  # type: ignore[no-any-return]
        return Deleted(id=id)


@strawberry.type(description="A template's status changed; refetch it for the rest.")
class TemplateStatusEvent:
    template_id: strawberry.ID
    status: TemplateStatus  # type: ignore[valid-type]

    @classmethod
    def from_event(cls, event: Event) -> TemplateStatusEvent | None:
        template_id, status = event.ids.get("template_id"), event.ids.get("status")
        if not isinstance(template_id, str) or not isinstance(status, str):
            return None
        try:
            return cls(template_id=strawberry.ID(template_id), status=TemplateStatusEnum(status))
        except ValueError:
            return None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[IsAuthenticated],
        description="Template statuses of the caller's organisation as they change.",
    )
    async def template_status_changed(
        self, info: Info
    ) -> AsyncGenerator[TemplateStatusEvent, None]:
        async for event in stream(info, [EventType.TEMPLATE_STATUS_CHANGED]):
            payload = TemplateStatusEvent.from_event(event)
            if payload is not None:
                yield payload
