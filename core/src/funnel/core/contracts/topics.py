"""Kafka topic names.

In Kubernetes every organisation has its own bridge, workers and inbound topic; ``funnel dev``
shares one topic for all. The names are built here so producer and consumer cannot disagree.
"""

from __future__ import annotations

import re

DEFAULT_INBOUND_TOPIC = "funnel.inbound"
DEAD_LETTER_SUFFIX = ".dlq"
#: Kafka's own rule for topic names.
_LEGAL = re.compile(r"[^a-zA-Z0-9._-]")
_MAX_TOPIC_LENGTH = 249


def topic_safe(part: str) -> str:
    """``part`` with every character Kafka refuses replaced by ``-``."""
    return _LEGAL.sub("-", part)


def _checked(name: str) -> str:
    if not name or name in (".", "..") or len(name) > _MAX_TOPIC_LENGTH:
        raise ValueError(f"not a valid Kafka topic name: {name!r}")
    return name


def inbound_topic(organisation_id: str | None = None, base: str = DEFAULT_INBOUND_TOPIC) -> str:
    """``funnel.inbound`` shared, or ``funnel.inbound.<organisation>`` per tenant."""
    if not organisation_id:
        return _checked(base)
    return _checked(f"{base}.{topic_safe(organisation_id)}")


def dead_letter_topic(topic: str) -> str:
    """Where events that keep failing on ``topic`` go, with the error in their headers."""
    return _checked(topic + DEAD_LETTER_SUFFIX)
