"""Helpers the domain modules share (not a domain: no ``Query`` or ``Mutation`` here)."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from pydantic import ValidationError as PydanticValidationError
from strawberry.permission import BasePermission

from funnel.api.deps import client_ip
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    NotFoundError,
    expected_failure,
    limit_error,
    upstream_error,
)
from funnel.api.graphql.permissions import HasRole
from funnel.core.audit.writer import Actor
from funnel.core.errors import FunnelError, UpstreamFailed, ValidationFailed
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


def refused(info: Info, exc: FunnelError | PydanticValidationError) -> Any:
    """A mutation's expected refusal as its union member, with nothing committed.

    Input outside the limits (the schemas' or the service's) is a ``LimitError`` listing every
    problem, Meta failing an ``UpstreamError``, anything else the matching expected failure.
    """
    info.context.failed = True
    if isinstance(exc, UpstreamFailed):
        return upstream_error(exc)
    if isinstance(exc, ValidationFailed | PydanticValidationError):
        return limit_error(exc)
    return expected_failure(exc)


def not_found(info: Info, message: str) -> NotFoundError:
    """``NotFoundError`` for an id that names nothing of the caller's organisation."""
    info.context.failed = True
    return NotFoundError(message=message, code="not_found")
