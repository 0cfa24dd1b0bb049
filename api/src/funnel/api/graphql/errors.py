"""Expected failures as union members (phoenix style): a mutation returns
``Organisation | NotFoundError | ForbiddenError | ...`` and the client switches on ``__typename``.
Unexpected failures stay GraphQL errors (masked)."""

from __future__ import annotations

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.core.errors import (
    Conflict,
    Forbidden,
    FunnelError,
    NotFound,
    UpstreamFailed,
    ValidationFailed,
)


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


@strawberry.type
class UpstreamError(UserError):
    """A dependency (Meta's Graph API) failed; retrying later may succeed."""


@strawberry.type
class FieldProblem:
    #: Dotted path of the offending input field (``content.footer``), or null for the whole.
    field: str | None
    message: str


@strawberry.type
class LimitError(UserError):
    """Input outside the documented limits (Meta's for templates): every problem found."""

    problems: list[FieldProblem]


def limit_error(exc: PydanticValidationError | ValidationFailed) -> LimitError:
    """A typed error for an input the schemas or the service refused."""
    if isinstance(exc, ValidationFailed):
        field = exc.details.get("field")
        return LimitError(
            message=exc.message,
            code=exc.code,
            problems=[FieldProblem(field=str(field) if field else None, message=exc.message)],
        )
    problems = [
        FieldProblem(
            field=".".join(str(p) for p in error.get("loc", ())) or None,
            message=str(error["msg"]).removeprefix("Value error, "),
        )
        for error in exc.errors()
    ]
    return LimitError(message=problems[0].message, code="validation_failed", problems=problems)


def upstream_error(exc: UpstreamFailed) -> UpstreamError:
    return UpstreamError(message=exc.message, code=exc.code)
