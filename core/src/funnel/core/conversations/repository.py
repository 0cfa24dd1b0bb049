"""Conversation and message queries, always under the tenant predicate (and RLS underneath)."""

from __future__ import annotations

import sqlalchemy as sa

from funnel.core.conversations.schemas import ConversationFilters
from funnel.core.db.tenancy import TenantRepository
from funnel.core.leads.pagination import Cursor
from funnel.core.models import Conversation, Message


class ConversationRepository(TenantRepository[Conversation]):
    model = Conversation

    def page(
        self, filters: ConversationFilters, cursor: Cursor | None, limit: int
    ) -> sa.Select[Conversation]:
        """Newest activity first (``last_message_at DESC NULLS LAST``, the inbox index).

        A conversation whose activity changes while someone pages moves to the top: it may be
        missed by that walk (it is on page one now), never shown twice within one page."""
        statement = self.get_base_statement()
        for field in ("mode", "stage", "needs_attention", "assigned_user_id", "channel_id"):
            value = getattr(filters, field)
            if value is not None:
                statement = statement.where(getattr(Conversation, field) == value)
        if cursor is not None:
            at = Conversation.last_message_at
            if cursor.at is None:
                statement = statement.where(at.is_(None), Conversation.id < cursor.id)
            else:
                statement = statement.where(
                    sa.or_(
                        at < cursor.at,
                        sa.and_(at == cursor.at, Conversation.id < cursor.id),
                        at.is_(None),
                    )
                )
        return statement.order_by(
            Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc()
        ).limit(limit + 1)


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
