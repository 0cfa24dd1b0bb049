"""Helpers the domain modules share (not a domain: no ``Query`` or ``Mutation`` here)."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.permission import BasePermission

from funnel.api.deps import client_ip
from funnel.api.graphql.context import Info
from funnel.api.graphql.permissions import HasRole
from funnel.core.audit.writer import Actor
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.telemetry import correlation_id

VIEWER: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.VIEWER)]
AGENT: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.AGENT)]
ADMIN: list[type[BasePermission]] = [HasRole.at_least(MembershipRole.ADMIN)]


def actor(info: Info) -> Actor:
    """The caller, for audit rows (as REST's ``ActorDep``, address included)."""
    principal = info.context.require_principal()
    request = getattr(info.context, "request", None)
    return Actor(
        organisation_id=principal.organisation_id,
        kind=ActorKind.USER if principal.user is not None else ActorKind.API_KEY,
        user_id=principal.user.id if principal.user is not None else None,
        api_key_id=principal.api_key_id,
        ip=client_ip(request) if request is not None else None,
        correlation_id=correlation_id(),
    )


def parse_uuid(value: strawberry.ID | None) -> uuid.UUID | None:
    """An id argument as a UUID; ``None`` for anything that is not one (it then matches
    nothing, exactly like another organisation's id)."""
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@strawberry.type
class Deleted:
    id: strawberry.ID
