"""Quick reply operations: agents (and viewers) list them, admins create, change and delete
them, each change audited. Titles are unique within an organisation. Nothing here commits."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.db.unique import flush_unique
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.models import QuickReply
from funnel.core.quick_replies.repository import QuickReplyRepository
from funnel.core.quick_replies.schemas import QuickReplyCreate, QuickReplyRead, QuickReplyUpdate


def quick_replies(session: AsyncSession) -> QuickReplyRepository:
    return QuickReplyRepository(session, current_organisation_id(session))


async def _quick_reply(session: AsyncSession, quick_reply_id: uuid.UUID) -> QuickReply:
    found = await quick_replies(session).get_by_id(quick_reply_id)
    if found is None:
        raise NotFound("quick reply not found")
    return found


async def list_quick_replies(session: AsyncSession) -> list[QuickReplyRead]:
    repository = quick_replies(session)
    statement = repository.get_base_statement().order_by(QuickReply.title)
    return [QuickReplyRead.model_validate(q) for q in await repository.get_all(statement)]


async def get_quick_reply(session: AsyncSession, quick_reply_id: uuid.UUID) -> QuickReplyRead:
    return QuickReplyRead.model_validate(await _quick_reply(session, quick_reply_id))


async def create_quick_reply(
    session: AsyncSession, actor: Actor, body: QuickReplyCreate
) -> QuickReplyRead:
    quick_reply = QuickReply(title=body.title, text=body.text, created_by_user_id=actor.user_id)
    await quick_replies(session).create(quick_reply)
    await flush_unique(session, "a quick reply with this title exists")
    await session.refresh(quick_reply)
    await record(
        session,
        actor,
        "quick_reply.created",
        entity_type="quick_reply",
        entity_id=quick_reply.id,
        changes={"title": quick_reply.title},
    )
    return QuickReplyRead.model_validate(quick_reply)


async def update_quick_reply(
    session: AsyncSession, actor: Actor, quick_reply_id: uuid.UUID, body: QuickReplyUpdate
) -> QuickReplyRead:
    quick_reply = await _quick_reply(session, quick_reply_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("title", "text"):
        if field in changes and changes[field] is None:
            raise ValidationFailed(f"{field} cannot be null", details={"field": field})
    await quick_replies(session).update(quick_reply, changes)
    await flush_unique(session, "a quick reply with this title exists")
    await session.refresh(quick_reply)
    await record(
        session,
        actor,
        "quick_reply.updated",
        entity_type="quick_reply",
        entity_id=quick_reply.id,
        changes={"fields": sorted(changes)},
    )
    return QuickReplyRead.model_validate(quick_reply)


async def delete_quick_reply(
    session: AsyncSession, actor: Actor, quick_reply_id: uuid.UUID
) -> None:
    quick_reply = await _quick_reply(session, quick_reply_id)
    await quick_replies(session).delete_by_id(quick_reply.id)
    await record(
        session,
        actor,
        "quick_reply.deleted",
        entity_type="quick_reply",
        entity_id=quick_reply.id,
        changes={"title": quick_reply.title},
    )
