"""The permission table: who may call each route.

Every router module declares ``PERMISSIONS``: ``{"METHOD /path/template": Access}`` for each of
its routes. ``tests/api/test_permission_matrix.py`` walks ``app.routes`` and fails when a route
has no entry, and then checks each entry against the running app (each role, anonymous, an API
key), so the table cannot drift from the code. ``docs/api.md`` renders the same table.
"""

from __future__ import annotations

import dataclasses
import enum

from funnel.core.models.enums import MembershipRole


class Level(enum.StrEnum):
    #: No credentials needed (login, register, health).
    PUBLIC = "public"
    #: Any signed-in user, whatever their role (their own account: me, logout, password).
    USER = "user"
    VIEWER = MembershipRole.VIEWER.value
    AGENT = MembershipRole.AGENT.value
    ADMIN = MembershipRole.ADMIN.value
    OWNER = MembershipRole.OWNER.value
    #: A platform operator (``users.is_platform_admin``), across organisations.
    PLATFORM_ADMIN = "platform_admin"
    #: The service token (``/internals``).
    SERVICE = "service"


@dataclasses.dataclass(frozen=True, slots=True)
class Access:
    level: Level
    #: The API-key scope that also opens the route; None closes it to API keys.
    api_key_scope: str | None = None
    #: Free-text rules beyond the role (shown in docs/api.md).
    note: str = ""


PUBLIC = Access(Level.PUBLIC)
USER = Access(Level.USER)
VIEWER = Access(Level.VIEWER)
AGENT = Access(Level.AGENT)
ADMIN = Access(Level.ADMIN)
OWNER = Access(Level.OWNER)
PLATFORM_ADMIN = Access(Level.PLATFORM_ADMIN)
SERVICE = Access(Level.SERVICE)

#: Routes the app itself adds (not from a router module).
APP_PERMISSIONS: dict[str, Access] = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    # Scraped in-cluster; a NetworkPolicy, not credentials, keeps it private.
    "GET /metrics": PUBLIC,
    "GET /graphql": Access(Level.PUBLIC, note="GraphQL: each field checks its own permissions"),
    "POST /graphql": Access(Level.PUBLIC, note="GraphQL: each field checks its own permissions"),
}
