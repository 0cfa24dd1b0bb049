"""The leads list search (``ILIKE '%term%'`` on name, wa_id and email, as
``LeadRepository.filtered`` writes it) can use the trigram indexes of migration 0003 rather than
reading every lead."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.leads.repository import LeadRepository
from funnel.core.leads.schemas import LeadFilters
from funnel.core.models import Lead
from tests.factories import make_channel, make_lead, make_organisation


async def test_each_searched_column_has_a_usable_trigram_index(db_session: AsyncSession) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(db_session, organisation)
    await make_lead(db_session, channel)
    await db_session.flush()

    # The repository's search predicate is an OR of one ILIKE per column; each arm must be
    # servable by its own trigram index (the planner combines them with a BitmapOr).
    filtered = LeadRepository(db_session, organisation.id).filtered(LeadFilters(search="priya"))
    search = str(
        filtered._where_criteria[-1].compile(
            dialect=db_session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
    )
    for column in ("name", "wa_id", "email"):
        assert f"leads.{column} ILIKE" in search, search

    # A tiny table would be read sequentially anyway; forbid that to see what the planner can use.
    # On a near-empty table it would also rather read the whole partial unique index on wa_id
    # (every row with a wa_id) and filter; the session is rolled back, so drop it for the check.
    await db_session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    await db_session.execute(sa.text("DROP INDEX uq_leads_organisation_id_channel_id_wa_id"))
    for column in ("name", "wa_id", "email"):
        statement = sa.select(Lead.id).where(getattr(Lead, column).ilike("%priya%", escape="\\"))
        compiled = statement.compile(
            dialect=db_session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = "\n".join((await db_session.execute(sa.text(f"EXPLAIN {compiled}"))).scalars())
        assert f"ix_leads_{column}_trgm" in plan, plan
