"""Expected failures as union members (phoenix style): a mutation returns
``Organisation | NotFoundError | ForbiddenError | ...`` and the client switches on ``__typename``.
Unexpected failures stay GraphQL errors (masked)."""

from __future__ import annotations

import strawberry

from funnel.core.errors import Conflict, Forbidden, FunnelError, NotFound, ValidationFailed


@strawberry.interface
class UserError:
    message: str
    code: str


@strawberry.type
class NotFoundError(UserError):
    pass


@strawberry.type
class ForbiddenError(UserError):
    pass


@strawberry.type
class ConflictError(UserError):
    pass


@strawberry.type
class ValidationError(UserError):
    pass


ExpectedFailure = NotFoundError | ForbiddenError | ConflictError | ValidationError


def expected_failure(exc: FunnelError) -> ExpectedFailure:
    """The union member for a domain error; anything else is re-raised as a real error."""
    if isinstance(exc, NotFound):
        return NotFoundError(message=exc.message, code=exc.code)
    if isinstance(exc, Forbidden):
        return ForbiddenError(message=exc.message, code=exc.code)
    if isinstance(exc, Conflict):
        return ConflictError(message=exc.message, code=exc.code)
    if isinstance(exc, ValidationFailed):
        return ValidationError(message=exc.message, code=exc.code)
    raise exc
