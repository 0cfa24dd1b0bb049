"""Lead queries, always under the tenant predicate (and RLS underneath)."""

from __future__ import annotations

import sqlalchemy as sa

from funnel.core.db.tenancy import TenantRepository
from funnel.core.leads.pagination import Cursor
from funnel.core.leads.schemas import LeadFilters
from funnel.core.models import Lead, LeadNote


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class LeadRepository(TenantRepository[Lead]):
    model = Lead

    def filtered(self, filters: LeadFilters) -> sa.Select[Lead]:
        """The filtered list, newest first; its ``(organisation_id, created_at)`` index serves
        the order, so a page reads ``limit`` index entries plus those the filters skip."""
        statement = self.get_base_statement()
        if filters.stage is not None:
            statement = statement.where(Lead.stage == filters.stage)
        if filters.intent_level is not None:
            statement = statement.where(Lead.intent_level == filters.intent_level)
        if filters.sentiment is not None:
            statement = statement.where(Lead.sentiment == filters.sentiment)
        if filters.tag:
            statement = statement.where(Lead.tags.contains([filters.tag]))
        if filters.opted_out is not None:
            statement = statement.where(Lead.opted_out.is_(filters.opted_out))
        if filters.created_from is not None:
            statement = statement.where(Lead.created_at >= filters.created_from)
        if filters.created_to is not None:
            statement = statement.where(Lead.created_at < filters.created_to)
        if filters.search:
            pattern = _like_pattern(filters.search.strip())
            statement = statement.where(
                sa.or_(
                    Lead.name.ilike(pattern, escape="\\"),
                    Lead.wa_id.ilike(pattern, escape="\\"),
                    Lead.email.ilike(pattern, escape="\\"),
                )
            )
        return statement.order_by(Lead.created_at.desc(), Lead.id.desc())

    def page(self, filters: LeadFilters, cursor: Cursor | None, limit: int) -> sa.Select[Lead]:
        statement = self.filtered(filters)
        if cursor is not None and cursor.at is not None:
            statement = statement.where(
                sa.tuple_(Lead.created_at, Lead.id) < sa.tuple_(cursor.at, cursor.id)
            )
        return statement.limit(limit + 1)


class LeadNoteRepository(TenantRepository[LeadNote]):
    model = LeadNote
