"""Sending as a person: text, reply buttons or an approved template, through
:func:`funnel.core.messages.service.send` (REST's ``POST /messages``), so the send planner
decides (opt-out first, then the 24-hour window) and the recipient is always the conversation's
lead. What the planner refuses is a union member the agent's screen can explain."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticValidationError
from strawberry.permission import BasePermission

from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import ConflictError, ForbiddenError, NotFoundError, expected_failure
from funnel.api.graphql.inbox import Message, parse_id
from funnel.api.graphql.permissions import HasRole
from funnel.core.errors import Conflict, FunnelError, NotFound, ValidationFailed
from funnel.core.messages import service as messages
from funnel.core.messages.schemas import ButtonsSend, TemplateSend, TextSend
from funnel.core.models import Conversation as ConversationModel
from funnel.core.models import Message as MessageModel
from funnel.core.models.enums import MembershipRole
from funnel.core.sending.planner import BlockReason
from funnel.core.telemetry import correlation_id

AGENT: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.AGENT)]
#: Planner refusals that mean "outside the 24-hour window, and no template to fall back on".
_WINDOW_REASONS = frozenset(
    {BlockReason.NO_APPROVED_TEMPLATE.value, BlockReason.NOTHING_TO_SEND.value}
)


@strawberry.type
class MessageQueued:
    #: ``free_form`` or ``template`` (a fallback template was queued instead of the text).
    verdict: str
    queued: Message


@strawberry.type
class WindowClosed:
    message: str


@strawberry.type
class OptedOut:
    message: str


@strawberry.type
class ValidationProblem:
    message: str
    field: str | None


SendMessageResult = Annotated[
    MessageQueued
    | WindowClosed
    | OptedOut
    | ValidationProblem
    | NotFoundError
    | ConflictError
    | ForbiddenError,
    strawberry.union("SendMessageResult"),
]


@strawberry.input
class ReplyButtonInput:
    id: str
    title: str


def _problem(info: Info, exc: PydanticValidationError) -> ValidationProblem:
    info.context.failed = True
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error.get("loc", ())) or None
    return ValidationProblem(message=str(error["msg"]), field=field)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=AGENT,
        description=(
            "Send a text, reply buttons (text + buttons) or an approved template (templateId) "
            "to the conversation's lead. Retrying with the same idempotencyKey queues nothing "
            "twice."
        ),
    )
    async def send_message(
        self,
        info: Info,
        conversation_id: strawberry.ID,
        text: str | None = None,
        buttons: list[ReplyButtonInput] | None = None,
        footer: str | None = None,
        template_id: strawberry.ID | None = None,
        template_parameters: list[str] | None = None,
        fallback_to_template: bool = False,
        idempotency_key: str | None = None,
    ) -> SendMessageResult:
        principal = info.context.require_principal()
        target = parse_id(conversation_id)
        # Not found comes before "invalid": another organisation's id must not be told apart
        # from a missing one by which error it gets. Row-level security hides other tenants.
        if target is None or await info.context.session.get(ConversationModel, target) is None:
            info.context.failed = True
            return NotFoundError(message="conversation not found", code="not_found")
        body: TextSend | ButtonsSend | TemplateSend
        try:
            if template_id is not None:
                template = parse_id(template_id)
                if template is None:
                    info.context.failed = True
                    return NotFoundError(message="template not found", code="not_found")
                body = TemplateSend(
                    conversation_id=target,
                    template_id=template,
                    parameters=template_parameters or [],
                )
            elif buttons:
                body = ButtonsSend.model_validate(
                    {
                        "conversation_id": target,
                        "text": text or "",
                        "buttons": [{"id": b.id, "title": b.title} for b in buttons],
                        "footer": footer,
                    }
                )
            else:
                body = TextSend(
                    conversation_id=target,
                    text=text or "",
                    fallback_to_template=fallback_to_template,
                )
        except PydanticValidationError as exc:
            return _problem(info, exc)
        caller = principal.user.id if principal.user is not None else principal.api_key_id
        try:
            accepted = await messages.send(
                info.context.session,
                user_id=principal.user.id if principal.user else None,
                body=body,
                # Namespaced by the caller, as REST does, so keys cannot collide across callers.
                idempotency_key=f"human:{caller}:{idempotency_key or uuid.uuid4()}",
                correlation_id=correlation_id(),
            )
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
        except FunnelError as exc:
            info.context.failed = True
            failure = expected_failure(exc)
            assert isinstance(failure, ConflictError | ForbiddenError | NotFoundError)
            return failure
        row = await info.context.session.get(MessageModel, accepted.message.id)
        assert row is not None
        return MessageQueued(verdict=accepted.verdict, queued=Message.from_model(row))
