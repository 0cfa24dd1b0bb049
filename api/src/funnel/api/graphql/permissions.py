"""Permission classes for fields: ``permission_classes=[IsAuthenticated]`` or
``[HasRole.at_least(MembershipRole.ADMIN)]``. They check the principal the context was built
from; the organisation is never an argument."""

from __future__ import annotations

import functools
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from funnel.api.graphql.context import Context
from funnel.core.auth.schemas import role_at_least
from funnel.core.models.enums import MembershipRole


class IsAuthenticated(BasePermission):
    message = "authentication required"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        return info.context.principal is not None


class IsUser(BasePermission):
    """A signed-in person (not an API key)."""

    message = "a user session is required"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.membership is not None


class IsPlatformAdmin(BasePermission):
    message = "platform administrators only"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        principal = info.context.principal
        return bool(principal and principal.user and principal.user.is_platform_admin)


class HasRole(BasePermission):
    minimum: MembershipRole = MembershipRole.VIEWER
    error_extensions = {"code": "FORBIDDEN"}

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"requires the {self.minimum.value} role or higher"

    def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        principal = info.context.principal
        return bool(
            principal
            and principal.membership is not None
            and role_at_least(principal.membership.role, self.minimum)
        )

    @staticmethod
    @functools.cache
    def at_least(role: MembershipRole) -> type[HasRole]:
        return type(f"HasRole{role.value.title()}", (HasRole,), {"minimum": role})
