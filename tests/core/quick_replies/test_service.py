"""Quick replies: titles unique per organisation, changes audited, another tenant's invisible."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.errors import Conflict, NotFound
from funnel.core.models import AuditLog, QuickReply
from funnel.core.models.enums import ActorKind
from funnel.core.quick_replies import service
from funnel.core.quick_replies.schemas import QuickReplyCreate, QuickReplyUpdate
from tests import factories


async def _admin(session: AsyncSession) -> Actor:
    organisation = await factories.make_organisation(session)
    user = await factories.make_user(session)
    return Actor(organisation_id=organisation.id, kind=ActorKind.USER, user_id=user.id)


async def test_create_list_change_delete(db_session: AsyncSession) -> None:
    actor = await _admin(db_session)
    await scope_to_organisation(db_session, actor.organisation_id)
    hours = await service.create_quick_reply(
        db_session, actor, QuickReplyCreate(title=" Opening hours ", text="9 am to 7 pm\n")
    )
    assert (hours.title, hours.text) == ("Opening hours", "9 am to 7 pm")
    await service.create_quick_reply(
        db_session, actor, QuickReplyCreate(title="Address", text="12 Lake Road")
    )
    assert [q.title for q in await service.list_quick_replies(db_session)] == [
        "Address",
        "Opening hours",
    ]
    changed = await service.update_quick_reply(
        db_session, actor, hours.id, QuickReplyUpdate(text="8 am to 8 pm")
    )
    assert (changed.title, changed.text) == ("Opening hours", "8 am to 8 pm")
    await service.delete_quick_reply(db_session, actor, hours.id)
    with pytest.raises(NotFound):
        await service.get_quick_reply(db_session, hours.id)
    actions = (
        await db_session.scalars(
            sa.select(AuditLog.action).where(AuditLog.entity_id == str(hours.id))
        )
    ).all()
    assert sorted(actions) == [
        "quick_reply.created",
        "quick_reply.deleted",
        "quick_reply.updated",
    ]

    # Titles are unique within the organisation (the request then ends: nothing is kept).
    with pytest.raises(Conflict):
        await service.create_quick_reply(
            db_session, actor, QuickReplyCreate(title="Address", text="another")
        )


async def test_another_organisations_reply_is_not_found(db_session: AsyncSession) -> None:
    theirs = await _admin(db_session)
    ours = await _admin(db_session)
    reply = QuickReply(organisation_id=theirs.organisation_id, title="Secret", text="theirs")
    db_session.add(reply)
    await db_session.flush()
    await scope_to_organisation(db_session, ours.organisation_id)
    assert await service.list_quick_replies(db_session) == []
    for attempt in (
        service.get_quick_reply(db_session, reply.id),
        service.delete_quick_reply(db_session, ours, reply.id),
        service.get_quick_reply(db_session, uuid.uuid4()),
    ):
        with pytest.raises(NotFound):
            await attempt
