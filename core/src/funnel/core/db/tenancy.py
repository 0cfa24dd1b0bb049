"""Tenant scoping: the one helper every tenant request goes through, and the repository base.

Two layers, each enough on its own:

1. :class:`TenantRepository` adds ``organisation_id = :scope`` to every SELECT, UPDATE and
   DELETE it builds and sets it on every row it creates.
2. :func:`scope_to_organisation` switches the session's transactions to the ``funnel_tenant``
   role with ``funnel.organisation_id`` set, where PostgreSQL's row-level security policies
   (created by the migrations) hide and refuse every other tenant's rows, whatever SQL runs.

System work (webhook routing by ``phone_number_id``, the scheduler and outbox sweeps, migrations)
uses an unscoped session: it runs as the login role, which owns the tables and is not subject to
the policies.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from funnel.core.db.base import Base

#: The NOLOGIN role tenant transactions run as; created by the first migration.
TENANT_ROLE = "funnel_tenant"
#: The custom setting the row-level security policies read.
SCOPE_SETTING = "funnel.organisation_id"
_INFO_KEY = "funnel.organisation_id"

ModelT = TypeVar("ModelT", bound=Base)


class NotScopedError(RuntimeError):
    """A tenant repository was asked for on a session that was never scoped."""


#: ``SET LOCAL ROLE`` and the scope setting in one round trip: ``set_config('role', …, true)`` is
#: what ``SET LOCAL ROLE`` does. Every scoped transaction pays it, so it is one statement.
_SCOPE_STATEMENT = sa.select(
    sa.func.set_config("role", TENANT_ROLE, True),
    sa.func.set_config(SCOPE_SETTING, sa.bindparam("organisation_id", type_=sa.String), True),
)


def _apply_scope(connection: Connection, organisation_id: uuid.UUID) -> None:
    # Both are transaction-local: they end with the transaction, so a pooled connection never
    # carries one request's tenant into the next.
    connection.execute(_SCOPE_STATEMENT, {"organisation_id": str(organisation_id)})


#: The root transaction the scope was last applied in, so it is applied once per transaction.
_APPLIED_KEY = "funnel.scope_applied_in"


def _on_begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    organisation_id = session.info.get(_INFO_KEY)
    # Only the outermost transaction: a nested one (a savepoint) inherits the setting.
    if organisation_id is not None and transaction.parent is None:
        _apply_scope(connection, organisation_id)
        session.info[_APPLIED_KEY] = transaction


def _remember_scope(session: AsyncSession, organisation_id: uuid.UUID) -> None:
    """Record ``organisation_id`` as the session's scope and scope every later transaction."""
    current = session.info.get(_INFO_KEY)
    if current is not None and current != organisation_id:
        raise RuntimeError("session is already scoped to another organisation")
    session.info[_INFO_KEY] = organisation_id
    sync_session = session.sync_session
    if not event.contains(sync_session, "after_begin", _on_begin):
        event.listen(sync_session, "after_begin", _on_begin)


async def scope_to_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> None:
    """Scope ``session`` to one organisation, now and for every later transaction it begins.

    Call it once, at the edge, before any tenant query (the API's organisation dependency, the
    worker once it has resolved the event's channel). The current transaction is scoped at once;
    after a commit or rollback the next transaction is scoped again when it begins, so a session
    cannot drift out of scope half way through a request.
    """
    _remember_scope(session, organisation_id)
    sync_session = session.sync_session
    # Begin now (if the caller's ``session.begin()`` has not touched the database yet, this is
    # where the transaction starts and the listener scopes it) so the scope is in force before
    # the caller's first statement.
    connection = await session.connection()
    if session.info.get(_APPLIED_KEY) is not sync_session.get_transaction():
        # The transaction had begun before the listener existed: scope it here.
        await connection.run_sync(_apply_scope, organisation_id)
        session.info[_APPLIED_KEY] = sync_session.get_transaction()


#: The bound parameter :func:`scoping` adds for the organisation.
_SCOPE_PARAMETER = "funnel_scope_organisation_id"


def scoping(statement: sa.Select[Any]) -> sa.Select[Any]:
    """``statement`` with the scope's two ``set_config`` calls as its last columns, for
    :func:`select_one_and_scope`. Build it once (at import) so SQLAlchemy's statement cache
    key is computed once too."""
    return statement.add_columns(
        sa.func.set_config("role", TENANT_ROLE, True),
        sa.func.set_config(SCOPE_SETTING, sa.bindparam(_SCOPE_PARAMETER, type_=sa.String), True),
    )


async def select_one_and_scope(
    session: AsyncSession,
    statement: sa.Select[Any],
    organisation_id: uuid.UUID,
    parameters: dict[str, Any],
) -> tuple[Any, ...] | None:
    """The one row of ``statement`` (built with :func:`scoping`), read with the login role's
    rights, and the session scoped to ``organisation_id`` by that same statement: what
    :func:`scope_to_organisation` does, without a round trip of its own. For the read that
    decides the scope (the API's authentication query, which every tenant request pays).

    The scope's ``set_config`` calls ride in the select list, so PostgreSQL runs them only for a
    returned row, once the statement has started with its permissions and row security settled
    for the role it began as: ``statement`` itself reads unscoped, every later statement of the
    transaction scoped. No row, no scope (the caller refuses the request, and the transaction
    ends with it). Returns the row's values without the two scope columns.
    """
    current = session.info.get(_INFO_KEY)
    if current is not None and current != organisation_id:
        raise RuntimeError("session is already scoped to another organisation")
    result = await session.execute(
        statement, {**parameters, _SCOPE_PARAMETER: str(organisation_id)}
    )
    row = result.one_or_none()
    if row is None:
        return None
    if row[-2] != TENANT_ROLE or row[-1] != str(organisation_id):
        raise RuntimeError("the statement did not scope the session (build it with scoping())")
    _remember_scope(session, organisation_id)
    session.info[_APPLIED_KEY] = session.sync_session.get_transaction()
    return tuple(row)[:-2]


def current_organisation_id(session: AsyncSession) -> uuid.UUID:
    """The organisation ``session`` was scoped to, or :class:`NotScopedError`."""
    organisation_id = session.info.get(_INFO_KEY)
    if organisation_id is None:
        raise NotScopedError("session is not scoped; call scope_to_organisation() at the edge")
    return cast(uuid.UUID, organisation_id)


class TenantRepository(Generic[ModelT]):
    """Queries for one tenant-owned model, always filtered to one organisation.

    Subclasses set ``model`` and add their own queries, building them on
    :meth:`get_base_statement` (or filtering with :meth:`scope_clause`) so the tenant predicate is
    never forgotten::

        class LeadRepository(TenantRepository[Lead]):
            model = Lead

            async def get_by_wa_id(self, channel_id, wa_id):
                statement = self.get_base_statement().where(
                    Lead.channel_id == channel_id, Lead.wa_id == wa_id
                )
                return await self.get_one_or_none(statement)

        leads = LeadRepository.scoped(session)

    ``organisations`` itself is scoped by ``id``: a subclass sets ``scope_column_name = "id"``.
    """

    model: type[ModelT]
    scope_column_name: str = "organisation_id"

    def __init__(self, session: AsyncSession, organisation_id: uuid.UUID) -> None:
        self.session = session
        self.organisation_id = organisation_id

    @classmethod
    def scoped(cls, session: AsyncSession) -> TenantRepository[ModelT]:
        """A repository for the organisation ``session`` is scoped to."""
        return cls(session, current_organisation_id(session))

    @property
    def scope_column(self) -> sa.ColumnElement[uuid.UUID]:
        return cast(sa.ColumnElement[uuid.UUID], getattr(self.model, self.scope_column_name))

    @property
    def id_column(self) -> sa.ColumnElement[uuid.UUID]:
        return cast(sa.ColumnElement[uuid.UUID], getattr(self.model, "id"))  # noqa: B009

    def scope_clause(self) -> sa.ColumnElement[bool]:
        return self.scope_column == self.organisation_id

    def get_base_statement(self) -> sa.Select[ModelT]:
        return sa.select(self.model).where(self.scope_clause())

    async def get_one_or_none(self, statement: sa.Select[ModelT]) -> ModelT | None:
        result = await self.session.execute(statement)
        return result.unique().scalar_one_or_none()

    async def get_all(self, statement: sa.Select[ModelT]) -> Sequence[ModelT]:
        result = await self.session.execute(statement)
        return result.unique().scalars().all()

    async def get_by_id(self, id: uuid.UUID) -> ModelT | None:
        return await self.get_one_or_none(self.get_base_statement().where(self.id_column == id))

    async def count(self, statement: sa.Select[ModelT] | None = None) -> int:
        inner = (statement if statement is not None else self.get_base_statement()).subquery()
        result = await self.session.execute(sa.select(sa.func.count()).select_from(inner))
        return int(result.scalar_one())

    async def create(self, obj: ModelT, *, flush: bool = False) -> ModelT:
        """Add ``obj`` to this organisation; refuses an object that names another one."""
        existing = getattr(obj, self.scope_column_name, None)
        if existing is not None and existing != self.organisation_id:
            raise ValueError(f"{self.model.__name__} belongs to another organisation")
        if self.scope_column_name != "id":
            setattr(obj, self.scope_column_name, self.organisation_id)
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj

    async def update(self, obj: ModelT, values: dict[str, Any], *, flush: bool = False) -> ModelT:
        if getattr(obj, self.scope_column_name) != self.organisation_id:
            raise ValueError(f"{self.model.__name__} belongs to another organisation")
        if self.scope_column_name in values:
            raise ValueError("the tenant of a row cannot change")
        for key, value in values.items():
            setattr(obj, key, value)
        if flush:
            await self.session.flush()
        return obj

    async def update_where(self, *where: sa.ColumnElement[bool], **values: Any) -> int:
        """A bulk ``UPDATE … WHERE organisation_id = :scope AND …``; returns the row count."""
        if self.scope_column_name in values:
            raise ValueError("the tenant of a row cannot change")
        statement = (
            sa.update(self.model)
            .where(self.scope_clause(), *where)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0))

    async def delete_where(self, *where: sa.ColumnElement[bool]) -> int:
        """A bulk ``DELETE … WHERE organisation_id = :scope AND …``; returns the row count."""
        statement = (
            sa.delete(self.model)
            .where(self.scope_clause(), *where)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0))

    async def delete_by_id(self, id: uuid.UUID) -> bool:
        return await self.delete_where(self.id_column == id) > 0
