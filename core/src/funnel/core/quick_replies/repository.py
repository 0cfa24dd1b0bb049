"""Quick reply queries, under the tenant predicate (and RLS underneath)."""

from __future__ import annotations

from funnel.core.db.tenancy import TenantRepository
from funnel.core.models import QuickReply


class QuickReplyRepository(TenantRepository[QuickReply]):
    model = QuickReply
