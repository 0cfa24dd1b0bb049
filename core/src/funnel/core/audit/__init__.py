"""The audit log writer: who changed what, without the secrets."""

from funnel.core.audit.writer import Actor, record

__all__ = ["Actor", "record"]
