"""DataLoaders: one per relation, created lazily once per request.

A domain module declares a factory next to its types and resolvers ask the context for it::

    def user_by_id(session: AsyncSession) -> DataLoader[uuid.UUID, User | None]:
        async def load(ids: list[uuid.UUID]) -> list[User | None]:
            rows = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(ids))))}
            return [rows.get(i) for i in ids]
        return DataLoader(load_fn=load)

    user = await info.context.loader(user_by_id).load(membership.user_id)

The loader runs on the request's scoped session, so row-level security still applies to every
batch; the cache lives for one request only (no cross-request staleness, no cross-tenant reuse).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from funnel.core.models import User

K = TypeVar("K")
V = TypeVar("V")

LoaderFactory = Callable[[AsyncSession], DataLoader[K, V]]


class LoaderRegistry:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = {}

    def get(self, factory: Callable[[AsyncSession], DataLoader[K, V]]) -> DataLoader[K, V]:
        loader = self._loaders.get(factory)
        if loader is None:
            loader = self._loaders[factory] = factory(self._session)
        return loader


def by_id(
    session: AsyncSession, model: Any, key: Any = None
) -> Callable[[Sequence[uuid.UUID]], Any]:
    """A batch function loading ``model`` rows by a column (``id`` by default), in key order."""
    column = key if key is not None else model.id

    async def load(ids: Sequence[uuid.UUID]) -> list[Any]:
        result: Any = await session.scalars(sa.select(model).where(column.in_(list(ids))))
        rows = {getattr(row, column.key): row for row in result}
        return [rows.get(i) for i in ids]

    return load


def user_by_id(session: AsyncSession) -> DataLoader[uuid.UUID, User | None]:
    return DataLoader(load_fn=by_id(session, User))
