"""``/messages``: a person's messages to the conversation's lead, and one message's history.

There is no recipient in any request: the message goes to the conversation's lead, always.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, File, Form, Header, Response, UploadFile, status

from funnel.api.deps import ResourcesDep, SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.api.routers.settings import graph_factory
from funnel.core.auth.schemas import Principal
from funnel.core.messages import service
from funnel.core.messages.schemas import MessageWithHistory, SendAccepted, SendRequest
from funnel.core.models.enums import MembershipRole
from funnel.core.telemetry import correlation_id

router = APIRouter(prefix="/messages", tags=["messages"])

SEND = Access(
    Level.AGENT,
    api_key_scope="messages:send",
    note="through the send planner: free text inside the 24-hour window only; never to an opted-out"
    " lead",
)
PERMISSIONS: dict[str, Access] = {
    "POST /messages": SEND,
    "POST /messages/media": SEND,
    "GET /messages/{message_id}": Access(Level.VIEWER, api_key_scope="conversations:read"),
    "GET /messages/{message_id}/media": Access(
        Level.VIEWER, api_key_scope="conversations:read", note="our stored copy of the bytes"
    ),
}

Sender = Annotated[Principal, Depends(require_role(MembershipRole.AGENT, scope="messages:send"))]
Reader = Annotated[
    Principal, Depends(require_role(MembershipRole.VIEWER, scope="conversations:read"))
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=100,
        description="Retrying with the same key never sends twice",
    ),
]


def _key(principal: Principal, given: str | None) -> str:
    # Namespaced by the caller, so one caller's key cannot collide with (or probe) another's.
    caller = principal.user.id if principal.user is not None else principal.api_key_id
    return f"human:{caller}:{given or uuid.uuid4()}"


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Queue a text, interactive or template message to the conversation's lead",
)
async def send_message(
    body: Annotated[SendRequest, Body()],
    session: SessionDep,
    principal: Sender,
    idempotency_key: IdempotencyKey = None,
) -> SendAccepted:
    return await service.send(
        session,
        user_id=principal.user.id if principal.user is not None else None,
        body=body,
        idempotency_key=_key(principal, idempotency_key),
        correlation_id=correlation_id(),
    )


@router.post(
    "/media",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 422, 502),
    summary="Upload a file and queue it to the conversation's lead",
)
async def send_media(
    session: SessionDep,
    principal: Sender,
    resources: ResourcesDep,
    conversation_id: Annotated[uuid.UUID, Form()],
    file: Annotated[UploadFile, File(description="image/jpeg, image/png, video/mp4, audio, PDF")],
    caption: Annotated[str | None, Form(max_length=1024)] = None,
    idempotency_key: IdempotencyKey = None,
) -> SendAccepted:
    content = await file.read(service.MEDIA_MAX_BYTES + 1)
    return await service.send_media(
        session,
        box=resources.secret_box,
        graph_factory=graph_factory(resources),
        user_id=principal.user.id if principal.user is not None else None,
        conversation_id=conversation_id,
        content=content,
        mime_type=(file.content_type or "").split(";")[0].strip().lower(),
        filename=file.filename or "file",
        caption=caption,
        idempotency_key=_key(principal, idempotency_key),
        correlation_id=correlation_id(),
    )


@router.get(
    "/{message_id}",
    responses=error_responses(401, 403, 404),
    summary="One message with its delivery status history",
)
async def get_message(message_id: uuid.UUID, session: SessionDep, _: Reader) -> MessageWithHistory:
    return await service.get_message(session, message_id)


@router.get(
    "/{message_id}/media",
    responses={
        **error_responses(401, 403, 404),
        200: {"content": {"application/octet-stream": {}}, "description": "The media's bytes"},
    },
    response_class=Response,
    summary="A message's media (image, audio, video, document), from our stored copy",
)
async def get_message_media(message_id: uuid.UUID, session: SessionDep, _: Reader) -> Response:
    media = await service.get_message_media(session, message_id)
    disposition = "inline"
    if media.filename:
        safe = "".join(
            c for c in media.filename if c.isascii() and c.isprintable() and c not in '"\\'
        )
        disposition = f'inline; filename="{safe}"'
    return Response(
        content=media.content,
        media_type=media.mime_type,
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )
