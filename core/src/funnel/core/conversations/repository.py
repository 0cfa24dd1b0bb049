"""Conversation and message queries, always under the tenant predicate (and RLS underneath)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from funnel.core.conversations.schemas import ConversationFilters
from funnel.core.db.tenancy import TenantRepository
from funnel.core.leads.pagination import Cursor
from funnel.core.models import Conversation, ConversationReadMarker, Message
from funnel.core.models.enums import MessageDirection


def inbox_page(
    statement: sa.Select[Any], cursor: Cursor | None, limit: int, *, entity: Any = None
) -> sa.Select[Any]:
    """``statement`` (a select over ``conversations`` with its filters) as one page: newest
    activity first (``last_message_at DESC NULLS LAST, id DESC``, conversations without a message
    last), ``limit`` rows after ``cursor``.

    Keyset on the inbox index ``conversations (organisation_id, last_message_at DESC NULLS
    LAST)``: the older rows are a row comparison, which the index bounds (``last_message_at <=
    :at``), so a deep page reads about ``limit`` index entries rather than every row before it,
    as an ``OR`` of the three cases would. The rows without activity, which sort after every
    other, are a second branch of the same statement (a ``UNION ALL``), read only when the
    first cannot fill the page. With ``entity`` (an ORM class), that statement's rows are
    read back as ``entity`` objects.
    """
    c = Conversation
    at = c.last_message_at
    newest_first = (at.desc().nulls_last(), c.id.desc())
    if cursor is None:
        return statement.order_by(*newest_first).limit(limit)
    if cursor.at is None:
        return statement.where(at.is_(None), c.id < cursor.id).order_by(c.id.desc()).limit(limit)
    older = (
        statement.where(sa.tuple_(at, c.id) < sa.tuple_(cursor.at, cursor.id))
        .order_by(*newest_first)
        .limit(limit)
    )
    without_activity = statement.where(at.is_(None)).order_by(c.id.desc()).limit(limit)
    page = sa.union_all(older, without_activity).subquery("page")
    return (
        sa.select(aliased(entity, page) if entity is not None else page)
        .order_by(page.c.last_message_at.desc().nulls_last(), page.c.id.desc())
        .limit(limit)
    )


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    def page(
        self, filters: ConversationFilters, cursor: Cursor | None, limit: int
    ) -> sa.Select[Conversation]:
        """Newest activity first (see :func:`inbox_page`), ``limit + 1`` rows to tell whether
        there is a next page.

        A conversation whose activity changes while someone pages moves to the top: it may be
        missed by that walk (it is on page one now), never shown twice within one page."""
        statement = self.get_base_statement()
        for field in ("mode", "stage", "needs_attention", "assigned_user_id", "channel_id"):
            value = getattr(filters, field)
            if value is not None:
                statement = statement.where(getattr(Conversation, field) == value)
        return inbox_page(statement, cursor, limit + 1, entity=Conversation)


class MessageRepository(TenantRepository[Message]):
    model = Message

    def page(
        self, conversation_id: object, cursor: Cursor | None, limit: int
    ) -> sa.Select[Message]:
        statement = self.get_base_statement().where(Message.conversation_id == conversation_id)
        if cursor is not None and cursor.at is not None:
            statement = statement.where(
                sa.tuple_(Message.created_at, Message.id) < sa.tuple_(cursor.at, cursor.id)
            )
        return statement.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)


class ReadMarkerRepository:
    """Each operator's read marker per conversation, and the unread counts they give."""

    def __init__(self, session: AsyncSession, organisation_id: uuid.UUID) -> None:
        self.session = session
        self.organisation_id = organisation_id

    async def mark(self, user_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        """Move the user's marker to the conversation's newest stored message; never back (two
        tabs marking out of order).

        The newest message's time rather than the clock: a message stamped before the clock
        but committed after the marker (a worker's turn still running) stays unread."""
        marker = ConversationReadMarker
        newest = (
            sa.select(sa.func.max(Message.created_at))
            .where(
                Message.organisation_id == self.organisation_id,
                Message.conversation_id == conversation_id,
            )
            .scalar_subquery()
        )
        statement = postgresql.insert(marker).values(
            organisation_id=self.organisation_id,
            user_id=user_id,
            conversation_id=conversation_id,
            last_read_at=sa.func.coalesce(newest, sa.func.now()),
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                constraint="uq_conversation_read_markers_user_conversation",
                set_={
                    "last_read_at": sa.func.greatest(
                        marker.last_read_at, statement.excluded.last_read_at
                    ),
                    "updated_at": sa.func.now(),
                },
            )
        )

    async def unread_counts(
        self, user_id: uuid.UUID, conversation_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """The customer's messages after the user's marker (all of them without one), per
        conversation, in one statement on the ``messages (organisation_id, conversation_id,
        created_at)`` index. Conversations with none are left out."""
        if not conversation_ids:
            return {}
        marker = ConversationReadMarker
        statement = (
            sa.select(Message.conversation_id, sa.func.count())
            .select_from(Message)
            .outerjoin(
                marker,
                sa.and_(
                    marker.organisation_id == Message.organisation_id,
                    marker.conversation_id == Message.conversation_id,
                    marker.user_id == user_id,
                ),
            )
            .where(
                Message.organisation_id == self.organisation_id,
                Message.conversation_id.in_(list(conversation_ids)),
                Message.direction == MessageDirection.INBOUND,
                sa.or_(marker.last_read_at.is_(None), Message.created_at > marker.last_read_at),
            )
            .group_by(Message.conversation_id)
        )
        return {row[0]: int(row[1]) for row in await self.session.execute(statement)}
