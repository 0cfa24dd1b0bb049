"""``/conversations``: the inbox, one thread with its messages and traces, operator actions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from funnel.api.deps import ActorDep, SessionDep, require_role
from funnel.api.errors import error_responses
from funnel.api.permissions import Access, Level
from funnel.core.auth.schemas import Principal
from funnel.core.conversations import service
from funnel.core.conversations.schemas import (
    AssignRequest,
    ConversationDetail,
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    StartFollowupsRequest,
)
from funnel.core.models.enums import ConversationMode, ConversationStage, MembershipRole

router = APIRouter(prefix="/conversations", tags=["conversations"])

READ = Access(Level.VIEWER, api_key_scope="conversations:read")
WRITE = Access(Level.AGENT, api_key_scope="conversations:write")
PERMISSIONS: dict[str, Access] = {
    "GET /conversations": READ,
    "GET /conversations/{conversation_id}": READ,
    "POST /conversations/{conversation_id}/takeover": Access(
        Level.AGENT, note="a person takes over; the caller becomes the assignee"
    ),
    "POST /conversations/{conversation_id}/release": WRITE,
    "POST /conversations/{conversation_id}/assign": Access(
        Level.AGENT,
        api_key_scope="conversations:write",
        note="to an active member of the same organisation",
    ),
    "POST /conversations/{conversation_id}/close": WRITE,
    "POST /conversations/{conversation_id}/resolve-attention": WRITE,
    "POST /conversations/{conversation_id}/followups": Access(
        Level.AGENT,
        api_key_scope="conversations:write",
        note="replaces the follow-ups pending on the conversation",
    ),
    "POST /conversations/{conversation_id}/read": Access(
        Level.VIEWER, note="the caller's own read marker; people only, not API keys"
    ),
}

Reader = Annotated[
    Principal, Depends(require_role(MembershipRole.VIEWER, scope="conversations:read"))
]
Writer = Annotated[
    Principal, Depends(require_role(MembershipRole.AGENT, scope="conversations:write"))
]
Agent = Annotated[Principal, Depends(require_role(MembershipRole.AGENT))]
Member = Annotated[Principal, Depends(require_role(MembershipRole.VIEWER))]


async def conversation_filters(
    mode: ConversationMode | None = None,
    stage: ConversationStage | None = None,
    needs_attention: bool | None = None,
    assigned_user_id: uuid.UUID | None = None,
    channel_id: uuid.UUID | None = None,
) -> ConversationFilters:
    return ConversationFilters(
        mode=mode,
        stage=stage,
        needs_attention=needs_attention,
        assigned_user_id=assigned_user_id,
        channel_id=channel_id,
    )


@router.get(
    "", responses=error_responses(401, 403, 422), summary="Conversations, newest activity first"
)
async def list_conversations(
    session: SessionDep,
    _: Reader,
    filters: Annotated[ConversationFilters, Depends(conversation_filters)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = 50,
) -> ConversationPage:
    return await service.list_conversations(session, filters, cursor=cursor, limit=limit)


@router.get(
    "/{conversation_id}",
    responses=error_responses(401, 403, 404, 422),
    summary="One conversation with its lead, messages (newest first) and the bot's traces",
)
async def get_conversation(
    conversation_id: uuid.UUID,
    session: SessionDep,
    _: Reader,
    messages_cursor: Annotated[str | None, Query(max_length=200)] = None,
    messages_limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = 50,
) -> ConversationDetail:
    return await service.get_conversation(
        session, conversation_id, messages_cursor=messages_cursor, messages_limit=messages_limit
    )


@router.post(
    "/{conversation_id}/takeover",
    responses=error_responses(401, 403, 404, 409),
    summary="Take the conversation over from the bot",
)
async def takeover(
    conversation_id: uuid.UUID, session: SessionDep, principal: Agent, actor: ActorDep
) -> ConversationRead:
    user_id = principal.user.id if principal.user is not None else None
    return await service.takeover(session, actor, conversation_id, user_id)


@router.post(
    "/{conversation_id}/release",
    responses=error_responses(401, 403, 404, 409),
    summary="Give the conversation back to the bot",
)
async def release(
    conversation_id: uuid.UUID, session: SessionDep, _: Writer, actor: ActorDep
) -> ConversationRead:
    return await service.release(session, actor, conversation_id)


@router.post(
    "/{conversation_id}/assign",
    responses=error_responses(401, 403, 404, 422),
    summary="Assign to a member (or unassign with null)",
)
async def assign(
    conversation_id: uuid.UUID,
    body: AssignRequest,
    session: SessionDep,
    _: Writer,
    actor: ActorDep,
) -> ConversationRead:
    return await service.assign(session, actor, conversation_id, body.user_id)


@router.post(
    "/{conversation_id}/close",
    responses=error_responses(401, 403, 404, 409),
    summary="Close the conversation",
)
async def close(
    conversation_id: uuid.UUID, session: SessionDep, _: Writer, actor: ActorDep
) -> ConversationRead:
    return await service.close(session, actor, conversation_id)


@router.post(
    "/{conversation_id}/resolve-attention",
    responses=error_responses(401, 403, 404, 409),
    summary="Mark the attention flag handled",
)
async def resolve_attention(
    conversation_id: uuid.UUID, session: SessionDep, _: Writer, actor: ActorDep
) -> ConversationRead:
    return await service.resolve_attention(session, actor, conversation_id)


@router.post(
    "/{conversation_id}/followups",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Start a follow-up sequence now",
    description=(
        "Schedules step 1 of the sequence (meant for `manual` ones), replacing the follow-ups "
        "pending on the conversation. 409 when no step could go out: the lead opted out, a "
        "person has the conversation, its stage is closed, or the sequence is paused."
    ),
)
async def start_followups(
    conversation_id: uuid.UUID,
    body: StartFollowupsRequest,
    session: SessionDep,
    _: Writer,
    actor: ActorDep,
) -> ConversationRead:
    return await service.start_followups(session, actor, conversation_id, body.sequence_id)


@router.post(
    "/{conversation_id}/read",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Mark the conversation read for the caller (their unread count drops to 0)",
)
async def mark_read(conversation_id: uuid.UUID, session: SessionDep, principal: Member) -> None:
    assert principal.user is not None  # require_role without a scope admits people only
    await service.mark_read(session, principal.user.id, conversation_id)
