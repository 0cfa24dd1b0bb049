"""Conversation and message queries, always under the tenant predicate (and RLS underneath)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from funnel.core.conversations.schemas import ConversationFilters
from funnel.core.db.tenancy import TenantRepository
from funnel.core.leads.pagination import Cursor
from funnel.core.models import Conversation, Message


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
