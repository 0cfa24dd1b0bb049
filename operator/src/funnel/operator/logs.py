"""Make kopf's log records fit Funnel's JSON logs.

kopf attaches its settings object and an object reference to every record it logs about a
resource. The settings are not JSON-serialisable, so the JSON formatter fails (and prints a
traceback) on each such line; the reference is useful and is kept as a plain string.
"""

from __future__ import annotations

import logging


class KopfRecordFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.__dict__
        fields.pop("settings", None)
        fields.pop("k8s_skip", None)
        ref = fields.pop("k8s_ref", None)
        if isinstance(ref, dict):
            record.k8s_object = f"{ref.get('namespace') or ''}/{ref.get('name') or ''}"
        return True


def install() -> None:
    """Add the filter to every handler of the root logger (call after ``configure_logging``)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(KopfRecordFilter())
