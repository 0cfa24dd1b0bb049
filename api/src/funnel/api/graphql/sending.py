"""Human sends ``sendMessage`` does not cover: a media file, an interactive list, and a template
with named parameters. Same service as REST's ``POST /messages`` and ``POST /messages/media``
(:mod:`funnel.core.messages.service`), so the send planner decides and the recipient is always
the conversation's lead; the refusals are the same union members as ``sendMessage``'s.

The media file travels as base64 in a variable (``contentBase64``), for the reason given in
:mod:`funnel.api.graphql.knowledge`; the service uploads it to WhatsApp and queues the message
by the media id WhatsApp returns (kept in ``media_objects`` for the timeline).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql._common import AGENT, parse_uuid
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UpstreamError,
    expected_failure,
)
from funnel.api.graphql.inbox import Message
from funnel.api.graphql.messages import MessageQueued, OptedOut, ValidationProblem, WindowClosed
from funnel.api.routers.settings import graph_factory
from funnel.core.errors import Conflict, FunnelError, NotFound, UpstreamFailed, ValidationFailed
from funnel.core.messages import service as messages
from funnel.core.messages.schemas import ListSend, SendAccepted, TemplateSend
from funnel.core.models import Conversation as ConversationModel
from funnel.core.models import Message as MessageModel
from funnel.core.sending.planner import BlockReason
from funnel.core.telemetry import correlation_id

_WINDOW_REASONS = frozenset(
    {BlockReason.NO_APPROVED_TEMPLATE.value, BlockReason.NOTHING_TO_SEND.value}
)
#: Base64 of the largest accepted media file, with padding.
_MAX_BASE64 = (messages.MEDIA_MAX_BYTES + 2) // 3 * 4

SendResult = Annotated[
    MessageQueued
    | WindowClosed
    | OptedOut
    | ValidationProblem
    | NotFoundError
    | ConflictError
    | ForbiddenError
    | UpstreamError,
    strawberry.union("HumanSendResult"),
]


@strawberry.input
class ListRowInput:
    id: str
    title: str
    description: str | None = None


@strawberry.input
class ListSectionInput:
    title: str | None = None
    rows: list[ListRowInput]


@strawberry.input
class NamedParameterInput:
    name: str
    value: str


async def _queue(
    info: Info,
    conversation_id: strawberry.ID,
    idempotency_key: str | None,
    build: Callable[[uuid.UUID, str], Awaitable[SendAccepted]],
) -> SendResult:
    """Checks, then ``build(conversation, key)``; maps what the planner or WhatsApp refuse."""
    target = parse_uuid(conversation_id)
    # Not found before invalid: another organisation's conversation gets the same answer as a
    # missing one, whatever else is wrong with the request (row-level security hides it).
    if target is None or await info.context.session.get(ConversationModel, target) is None:
        info.context.failed = True
        return NotFoundError(message="conversation not found", code="not_found")
    principal = info.context.require_principal()
    caller = principal.user.id if principal.user is not None else principal.api_key_id
    # Namespaced by the caller, as REST does, so keys cannot collide across callers.
    key = f"human:{caller}:{idempotency_key or uuid.uuid4()}"
    try:
        accepted = await build(target, key)
    except PydanticValidationError as exc:
        info.context.failed = True
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error.get("loc", ())) or None
        return ValidationProblem(message=str(error["msg"]), field=field)
    except Conflict as exc:
        info.context.failed = True
        reason = exc.details.get("reason")
        if reason == BlockReason.OPTED_OUT.value:
            return OptedOut(message=exc.message)
        if reason in _WINDOW_REASONS:
            return WindowClosed(message=exc.message)
        return ConflictError(message=exc.message, code=exc.code)
    except ValidationFailed as exc:
        info.context.failed = True
        field = exc.details.get("field")
        return ValidationProblem(message=exc.message, field=str(field) if field else None)
    except NotFound as exc:
        info.context.failed = True
        return NotFoundError(message=exc.message, code=exc.code)
    except UpstreamFailed as exc:
        info.context.failed = True
        return UpstreamError(message=exc.message, code=exc.code)
    except FunnelError as exc:
        info.context.failed = True
        failure = expected_failure(exc)
        assert isinstance(failure, ConflictError | ForbiddenError | NotFoundError)
        return failure
    row = await info.context.session.get(MessageModel, accepted.message.id)
    assert row is not None
    return MessageQueued(verdict=accepted.verdict, queued=Message.from_model(row))


def _user_id(info: Info) -> uuid.UUID | None:
    principal = info.context.require_principal()
    return principal.user.id if principal.user is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=AGENT,
        description=(
            "Send an image, video, audio file or PDF (base64) to the conversation's lead, "
            "inside the 24-hour window; uploaded to WhatsApp and queued by its media id."
        ),
    )
    async def send_media(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        filename: str,
        content_base64: str,
        content_type: str,
        caption: str | None = None,
        idempotency_key: str | None = None,
    ) -> SendResult:
        async def build(target: uuid.UUID, key: str) -> SendAccepted:
            if len(content_base64) > _MAX_BASE64:
                raise ValidationFailed("the file is too large", details={"field": "contentBase64"})
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValidationFailed(
                    "contentBase64 is not valid base64", details={"field": "contentBase64"}
                ) from exc
            resources = info.context.resources
            return await messages.send_media(
                info.context.session,
                box=resources.secret_box,
                graph_factory=graph_factory(resources),
                user_id=_user_id(info),
                conversation_id=target,
                content=content,
                mime_type=content_type.split(";")[0].strip().lower(),
                filename=filename or "file",
                caption=caption,
                idempotency_key=key,
                correlation_id=correlation_id(),
            )

        return await _queue(info, conversation_id, idempotency_key, build)

    @strawberry.mutation(
        permission_classes=AGENT,
        description="Send an interactive list (a button opening sections of rows).",
    )
    async def send_list(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        text: str,
        button: str,
        sections: list[ListSectionInput] | None = None,
        idempotency_key: str | None = None,
    ) -> SendResult:
        async def build(target: uuid.UUID, key: str) -> SendAccepted:
            body = ListSend.model_validate(
                {
                    "conversation_id": target,
                    "text": text,
                    "button": button,
                    "sections": [
                        {
                            "title": s.title,
                            "rows": [
                                {"id": r.id, "title": r.title, "description": r.description}
                                for r in s.rows
                            ],
                        }
                        for s in sections or []
                    ],
                }
            )
            return await messages.send(
                info.context.session,
                user_id=_user_id(info),
                body=body,
                idempotency_key=key,
                correlation_id=correlation_id(),
            )

        return await _queue(info, conversation_id, idempotency_key, build)

    @strawberry.mutation(
        permission_classes=AGENT,
        description=(
            "Send an approved template, whatever the window: parameters in placeholder order "
            "for a positional template, namedParameters for a named one."
        ),
    )
    async def send_template(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        template_id: strawberry.ID,
        parameters: list[str] | None = None,
        named_parameters: list[NamedParameterInput] | None = None,
        idempotency_key: str | None = None,
    ) -> SendResult:
        async def build(target: uuid.UUID, key: str) -> SendAccepted:
            template = parse_uuid(template_id)
            if template is None:
                raise NotFound("template not found")
            values: list[str] | dict[str, str] = list(parameters or [])
            if named_parameters:
                values = {p.name: p.value for p in named_parameters}
            body = TemplateSend(conversation_id=target, template_id=template, parameters=values)
            return await messages.send(
                info.context.session,
                user_id=_user_id(info),
                body=body,
                idempotency_key=key,
                correlation_id=correlation_id(),
            )

        return await _queue(info, conversation_id, idempotency_key, build)
