"""Structured logs with a correlation id, and Prometheus metrics, for every process."""

from funnel.core.telemetry.context import bind_context, correlation_id, new_correlation_id
from funnel.core.telemetry.logging import configure_logging, get_logger

__all__ = [
    "bind_context",
    "configure_logging",
    "correlation_id",
    "get_logger",
    "new_correlation_id",
]
