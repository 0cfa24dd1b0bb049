"""The GraphQL context, built from the same dependencies as REST.

HTTP: one session per operation, authenticated from the ``Authorization`` header exactly like a
REST route (and so scoped to the caller's organisation), committed when the operation succeeds
and rolled back when it fails or returned an expected failure.

WebSocket (graphql-transport-ws): credentials travel in the ``connection_init`` payload
(``{"authorization": "Bearer …"}``), never the URL; see
:meth:`funnel.api.graphql.router.FunnelGraphQLRouter.on_ws_connect`. A subscription holds no
database session while it waits; it opens a short one when it needs to read.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info as StrawberryInfo

from funnel.api.deps import Credentials, ResourcesDep, authenticate, read_credentials
from funnel.api.graphql.loaders import LoaderRegistry
from funnel.api.resources import Resources
from funnel.core.auth.schemas import Principal
from funnel.core.errors import Unauthorized

K = TypeVar("K")
V = TypeVar("V")


class Context(BaseContext):
    def __init__(
        self,
        resources: Resources,
        session: AsyncSession | None,
        principal: Principal | None,
    ) -> None:
        super().__init__()
        self.resources = resources
        self._session = session
        self.principal = principal
        #: Set by the websocket handshake; the credentials are kept to re-check the session.
        self.credentials: Credentials | None = None
        #: Set when the operation must not commit (an error, or an expected failure).
        self.failed = False
        self._loaders = LoaderRegistry(session) if session is not None else None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("no request session on a websocket; use open_session()")
        return self._session

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthorized("authentication required")
        return self.principal

    def loader(self, factory: Callable[[AsyncSession], DataLoader[K, V]]) -> DataLoader[K, V]:
        if self._loaders is None:
            raise RuntimeError("no loaders on a websocket context")
        return self._loaders.get(factory)

    @contextlib.asynccontextmanager
    async def open_session(self) -> AsyncIterator[AsyncSession]:
        """A short session scoped to the caller's organisation, for subscription resolvers."""
        principal = self.require_principal()
        async with self.resources.sessionmaker() as session:
            from funnel.core.db.tenancy import scope_to_organisation

            await scope_to_organisation(session, principal.organisation_id)
            yield session


Info = StrawberryInfo[Context, Any]


async def _context(connection: HTTPConnection, resources: ResourcesDep) -> AsyncIterator[Context]:
    if connection.scope["type"] == "websocket":
        yield Context(resources, None, None)
        return
    async with resources.sessionmaker() as session:
        credentials = read_credentials(connection)
        principal = (
            await authenticate(session, resources, credentials) if credentials is not None else None
        )
        context = Context(resources, session, principal)
        try:
            yield context
        except BaseException:
            await session.rollback()
            raise
        if context.failed:
            await session.rollback()
        else:
            await session.commit()


async def get_context(
    # Function scope: the operation's transaction ends before its answer is sent (see
    # funnel.api.deps.SessionDep). strawberry wraps the getter in a plain ``Depends``, so the
    # scope is set here, one level down.
    context: Annotated[Context, Depends(_context, scope="function")],
) -> Context:
    return context


ContextDep = Depends(get_context)
