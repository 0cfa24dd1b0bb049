"""One handler renders every :class:`funnel.core.errors.FunnelError` the same way.

Body: ``{"error": {"code": "...", "message": "...", "details": {...}}}``. Unexpected exceptions
become a 500 with the correlation id and nothing else, so no internal detail (or secret in an
exception message) reaches the caller.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from funnel.api.middleware import SCOPE_KEY
from funnel.core.errors import FunnelError
from funnel.core.telemetry import correlation_id, get_logger

log = get_logger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: declares the business errors it may return in OpenAPI."""
    return {code: {"model": ErrorResponse} for code in status_codes}


async def _funnel_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FunnelError)
    body = ErrorResponse(error=ErrorBody(code=exc.code, message=exc.message, details=exc.details))
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    cid = correlation_id() or request.scope.get(SCOPE_KEY)
    log.exception(
        "api.unhandled_error", extra={"error_type": type(exc).__name__, "correlation_id": cid}
    )
    body = ErrorResponse(
        error=ErrorBody(
            code="internal_error", message="internal error", details={"correlation_id": cid}
        )
    )
    headers = {"X-Correlation-Id": cid} if cid else None
    return JSONResponse(body.model_dump(), status_code=500, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FunnelError, _funnel_error)
    app.add_exception_handler(Exception, _unexpected)
