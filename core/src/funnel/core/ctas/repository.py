"""CTA queries: soft-deleted rows are invisible to the API."""

from __future__ import annotations

import sqlalchemy as sa

from funnel.core.db.tenancy import TenantRepository
from funnel.core.models import Cta


class CtaRepository(TenantRepository[Cta]):
    model = Cta

    def get_base_statement(self) -> sa.Select[Cta]:
        return super().get_base_statement().where(Cta.deleted_at.is_(None))
