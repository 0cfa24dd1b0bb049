"""Lead queries, always under the tenant predicate (and RLS underneath)."""

from __future__ import annotations

from typing import Any

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

    def conditions(self, filters: LeadFilters) -> list[sa.ColumnElement[bool]]:
        """The tenant predicate and one condition per filter set."""
        conditions = [self.scope_clause()]
        if filters.stage is not None:
            conditions.append(Lead.stage == filters.stage)
        if filters.intent_level is not None:
            conditions.append(Lead.intent_level == filters.intent_level)
        if filters.sentiment is not None:
            conditions.append(Lead.sentiment == filters.sentiment)
        if filters.tag:
            conditions.append(Lead.tags.contains([filters.tag]))
        if filters.opted_out is not None:
            conditions.append(Lead.opted_out.is_(filters.opted_out))
        if filters.created_from is not None:
            conditions.append(Lead.created_at >= filters.created_from)
        if filters.created_to is not None:
            conditions.append(Lead.created_at < filters.created_to)
        if filters.search:
            pattern = _like_pattern(filters.search.strip())
            conditions.append(
                sa.or_(
                    Lead.name.ilike(pattern, escape="\\"),
                    Lead.wa_id.ilike(pattern, escape="\\"),
                    Lead.email.ilike(pattern, escape="\\"),
                )
            )
        return conditions

    def filtered(self, filters: LeadFilters) -> sa.Select[Lead]:
        """The filtered list, newest first; its ``(organisation_id, created_at)`` index serves
        the order, so a page reads ``limit`` index entries plus those the filters skip."""
        return (
            sa.select(Lead)
            .where(*self.conditions(filters))
            .order_by(Lead.created_at.desc(), Lead.id.desc())
        )

    def page(
        self, filters: LeadFilters, cursor: Cursor | None, limit: int, *columns: Any
    ) -> sa.Select[Any]:
        """A page of :meth:`filtered` after ``cursor`` (``limit + 1`` rows, to tell whether
        another follows): the leads, or only ``columns`` of them. Built in one go (a request
        pays for every generative step of a statement)."""
        conditions = self.conditions(filters)
        if cursor is not None and cursor.at is not None:
            conditions.append(sa.tuple_(Lead.created_at, Lead.id) < sa.tuple_(cursor.at, cursor.id))
        return (
            sa.select(*(columns or (Lead,)))
            .where(*conditions)
            .order_by(Lead.created_at.desc(), Lead.id.desc())
            .limit(limit + 1)
        )


class LeadNoteRepository(TenantRepository[LeadNote]):
    model = LeadNote
