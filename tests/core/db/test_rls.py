"""Row-level security: a scoped tenant session sees and writes only its own organisation's rows,
whatever SQL it runs, even on a superuser connection (embedded PostgreSQL logs in as one)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.tenancy import (
    NotScopedError,
    TenantRepository,
    current_organisation_id,
    scope_to_organisation,
    scoping,
    select_one_and_scope,
)
from funnel.core.models import TENANT_TABLES, Base, Lead, Organisation
from funnel.core.models.enums import MembershipRole
from funnel.core.settings import DatabaseSettings
from tests.factories import (
    make_channel,
    make_conversation,
    make_lead,
    make_membership,
    make_message,
    make_organisation,
    make_user,
)

#: Tables deliberately outside row-level security: identity data only the auth service reads.
SYSTEM_TABLES = {"refresh_tokens", "login_attempts"}


@dataclasses.dataclass
class Tenant:
    organisation_id: uuid.UUID
    channel_id: uuid.UUID
    lead_id: uuid.UUID
    user_id: uuid.UUID


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=2))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def _tenant(session: AsyncSession) -> Tenant:
    organisation = await make_organisation(session)
    channel = await make_channel(session, organisation)
    lead = await make_lead(session, channel)
    conversation = await make_conversation(session, lead)
    await make_message(session, conversation)
    await make_message(session, conversation)
    user = await make_user(session)
    await make_membership(session, organisation, user, MembershipRole.OWNER)
    return Tenant(organisation.id, channel.id, lead.id, user.id)


@pytest_asyncio.fixture
async def tenants(sessions: async_sessionmaker[AsyncSession]) -> tuple[Tenant, Tenant]:
    async with sessions() as session:
        a, b = await _tenant(session), await _tenant(session)
        await session.commit()
    return a, b


async def _column(session: AsyncSession, sql: str) -> list[object]:
    return list((await session.execute(sa.text(sql))).scalars())


async def test_the_login_role_is_unscoped_and_sees_every_tenant(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    async with sessions() as session:
        organisations = await _column(session, "SELECT DISTINCT organisation_id FROM messages")
    assert set(organisations) == {tenants[0].organisation_id, tenants[1].organisation_id}


async def test_scoped_session_sees_only_its_organisation(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    async with sessions() as session:
        await scope_to_organisation(session, a.organisation_id)
        # The connection is a superuser's, which bypasses RLS; after SET ROLE it must not.
        assert await session.scalar(sa.text("SELECT current_user")) == "funnel_tenant"
        assert await _column(session, "SELECT id FROM leads") == [a.lead_id]
        assert await _column(session, "SELECT DISTINCT organisation_id FROM messages") == [
            a.organisation_id
        ]
        assert await session.scalar(sa.text("SELECT count(*) FROM messages")) == 2
        assert await _column(session, "SELECT id FROM organisations") == [a.organisation_id]
        assert await _column(session, "SELECT id FROM users") == [a.user_id]
        # Even naming the other tenant's rows outright finds nothing.
        found = await session.execute(
            sa.text("SELECT id FROM leads WHERE id = :id"), {"id": b.lead_id}
        )
        assert found.all() == []


async def test_scoped_session_cannot_write_into_another_organisation(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    async with sessions() as session:
        await scope_to_organisation(session, a.organisation_id)
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.execute(
                sa.text(
                    "INSERT INTO leads (organisation_id, channel_id, wa_id) "
                    "VALUES (:organisation_id, :channel_id, '919999999999')"
                ),
                {"organisation_id": b.organisation_id, "channel_id": b.channel_id},
            )
        await session.rollback()

        # Moving an own row to the other tenant is refused by WITH CHECK as well.
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.execute(
                sa.text("UPDATE leads SET organisation_id = :b WHERE id = :id"),
                {"b": b.organisation_id, "id": a.lead_id},
            )
        await session.rollback()

        updated = await session.execute(
            sa.text("UPDATE leads SET name = 'hijacked' WHERE id = :id"), {"id": b.lead_id}
        )
        deleted = await session.execute(
            sa.text("DELETE FROM messages WHERE organisation_id = :b"), {"b": b.organisation_id}
        )
        assert (updated.rowcount, deleted.rowcount) == (0, 0)  # type: ignore[attr-defined]
        await session.commit()

    async with sessions() as session:
        lead_b = await session.get(Lead, b.lead_id)
        assert lead_b is not None
        assert lead_b.name != "hijacked"
        assert (
            await session.scalar(
                sa.text("SELECT count(*) FROM messages WHERE organisation_id = :b"),
                {"b": b.organisation_id},
            )
            == 2
        )


async def test_tenant_role_without_an_organisation_sees_nothing(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(sa.text("SET LOCAL ROLE funnel_tenant"))
        assert await session.scalar(sa.text("SELECT count(*) FROM leads")) == 0
        assert await session.scalar(sa.text("SELECT count(*) FROM messages")) == 0
        assert await session.scalar(sa.text("SELECT count(*) FROM organisations")) == 0
        # Nor with the setting present but empty (how a pooled connection may look).
        await session.execute(sa.text("SELECT set_config('funnel.organisation_id', '', true)"))
        assert await session.scalar(sa.text("SELECT count(*) FROM leads")) == 0


async def test_scope_survives_commit_and_never_leaks_to_the_next_session(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    async with sessions() as session:
        await scope_to_organisation(session, a.organisation_id)
        await session.commit()
        # A new transaction on the same session is scoped again.
        assert await _column(session, "SELECT id FROM leads") == [a.lead_id]
        assert current_organisation_id(session) == a.organisation_id
        await session.commit()

    # The pool hands the same connection to the next session: SET LOCAL ended with the
    # transaction, so it is the login role again and sees both tenants.
    async with sessions() as session:
        assert await session.scalar(sa.text("SELECT current_user")) != "funnel_tenant"
        assert await session.scalar(sa.text("SELECT count(*) FROM leads")) == 2
        with pytest.raises(NotScopedError):
            current_organisation_id(session)


async def test_a_session_cannot_be_rescoped_to_another_organisation(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    async with sessions() as session:
        await scope_to_organisation(session, a.organisation_id)
        with pytest.raises(RuntimeError, match="another organisation"):
            await scope_to_organisation(session, b.organisation_id)


class LeadRepository(TenantRepository[Lead]):
    model = Lead


async def test_repository_filters_even_without_row_level_security(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    """The repository is the first layer: on an unscoped (system) session it still filters."""
    a, b = tenants
    async with sessions() as session:
        leads = LeadRepository(session, a.organisation_id)
        assert await leads.get_by_id(b.lead_id) is None
        assert [lead.id for lead in await leads.get_all(leads.get_base_statement())] == [a.lead_id]
        assert await leads.count() == 1
        assert await leads.update_where(Lead.id == b.lead_id, name="x") == 0
        assert await leads.delete_by_id(b.lead_id) is False

        stray = Lead(organisation_id=b.organisation_id, channel_id=b.channel_id, wa_id="911")
        with pytest.raises(ValueError, match="another organisation"):
            await leads.create(stray)
        created = await leads.create(Lead(channel_id=a.channel_id, wa_id="912"), flush=True)
        assert created.organisation_id == a.organisation_id
        await session.rollback()


async def test_repository_takes_its_organisation_from_the_scoped_session(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    async with sessions() as session:
        with pytest.raises(NotScopedError):
            LeadRepository.scoped(session)
        await scope_to_organisation(session, a.organisation_id)
        leads = LeadRepository.scoped(session)
        assert leads.organisation_id == a.organisation_id
        assert [lead.id for lead in await leads.get_all(leads.get_base_statement())] == [a.lead_id]


async def test_every_tenant_table_is_under_row_level_security(engine: AsyncEngine) -> None:
    """A table added later without GRANT, ENABLE and a policy fails here."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT c.relname, c.relrowsecurity, count(p.policyname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.schemaname = n.nspname "
                "AND 'funnel_tenant' = ANY (p.roles) "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "GROUP BY c.relname, c.relrowsecurity"
            )
        )
        protected = {name for name, enabled, policies in rows if enabled and policies == 1}
    expected = set(Base.metadata.tables) - SYSTEM_TABLES
    assert expected - protected == set()
    assert set(TENANT_TABLES) <= protected


class OrganisationRepository(TenantRepository[Organisation]):
    model = Organisation
    scope_column_name = "id"


async def test_the_organisations_table_is_scoped_by_its_own_id(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    async with sessions() as session:
        await scope_to_organisation(session, a.organisation_id)
        organisations = OrganisationRepository.scoped(session)
        assert await organisations.get_by_id(b.organisation_id) is None
        own = await organisations.get_by_id(a.organisation_id)
        assert own is not None
        with pytest.raises(ValueError, match="cannot change"):
            await organisations.update(own, {"id": b.organisation_id})
        await organisations.update(own, {"name": "Renamed"}, flush=True)
        await session.commit()
        # Creating or deleting an organisation is system work: the tenant role may not.
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(
                sa.delete(Organisation).where(Organisation.id == a.organisation_id)
            )


async def test_the_tenant_role_cannot_touch_login_attempts(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    """The login throttle's counters are identity data: closed to tenant sessions entirely."""
    a, _ = tenants
    async with sessions() as session, session.begin():
        await scope_to_organisation(session, a.organisation_id)
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(sa.text("SELECT count(*) FROM login_attempts"))


# ---------------------------------------------------------------- scoping in the reading statement

_ORGANISATION_BY_ID = sa.select(Organisation.id, Organisation.name).where(
    Organisation.id == sa.bindparam("organisation_id")
)


async def test_a_scoping_read_sees_unscoped_and_scopes_what_follows(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    """The authentication query's way: the statement reads as the login role (it may read
    tables the tenant role cannot), and every statement after it is scoped."""
    a, b = tenants
    statement = scoping(
        sa.select(sa.func.count())
        .select_from(sa.text("refresh_tokens"))  # closed to the tenant role
        .where(sa.literal(True) == sa.bindparam("flag"))
    )
    async with sessions() as session:
        found = await select_one_and_scope(session, statement, a.organisation_id, {"flag": True})
        assert found is not None
        assert len(found) == 1
        assert current_organisation_id(session) == a.organisation_id
        assert await session.scalar(sa.text("SELECT current_user")) == "funnel_tenant"
        assert await _column(session, "SELECT id FROM leads") == [a.lead_id]
        # A later transaction of the same session is scoped again when it begins.
        await session.commit()
        assert await _column(session, "SELECT id FROM organisations") == [a.organisation_id]
        assert b.organisation_id not in await _column(session, "SELECT organisation_id FROM leads")


async def test_a_scoping_read_that_finds_nothing_scopes_nothing(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    async with sessions() as session:
        found = await select_one_and_scope(
            session,
            scoping(_ORGANISATION_BY_ID),
            a.organisation_id,
            {"organisation_id": uuid.uuid4()},
        )
        assert found is None
        with pytest.raises(NotScopedError):
            current_organisation_id(session)
        # Neither the role nor the setting changed in the database either.
        assert await session.scalar(sa.text("SELECT current_user")) != "funnel_tenant"
        assert not await session.scalar(
            sa.text("SELECT current_setting('funnel.organisation_id', true)")
        )


async def test_a_scoping_read_refuses_a_statement_that_does_not_scope(
    sessions: async_sessionmaker[AsyncSession], tenants: tuple[Tenant, Tenant]
) -> None:
    a, b = tenants
    async with sessions() as session:
        with pytest.raises(RuntimeError, match="did not scope"):
            await select_one_and_scope(
                session,
                _ORGANISATION_BY_ID,
                a.organisation_id,
                {"organisation_id": a.organisation_id},
            )
        with pytest.raises(NotScopedError):
            current_organisation_id(session)
    async with sessions() as session:
        await scope_to_organisation(session, a.organisation_id)
        with pytest.raises(RuntimeError, match="another organisation"):
            await select_one_and_scope(
                session,
                scoping(_ORGANISATION_BY_ID),
                b.organisation_id,
                {"organisation_id": b.organisation_id},
            )


async def test_a_scoping_read_never_leaks_to_the_pooled_connections_next_session(
    database_url: str, tenants: tuple[Tenant, Tenant]
) -> None:
    a, _ = tenants
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url), pool_size=1))
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            await select_one_and_scope(
                session,
                scoping(_ORGANISATION_BY_ID),
                a.organisation_id,
                {"organisation_id": a.organisation_id},
            )
            await session.commit()
        async with sessions() as session:  # the same connection: the pool holds one
            assert await session.scalar(sa.text("SELECT current_user")) != "funnel_tenant"
            organisations = await _column(session, "SELECT DISTINCT organisation_id FROM leads")
            assert len(organisations) == 2
    finally:
        await engine.dispose()
