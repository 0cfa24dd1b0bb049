"""Writing audit log rows.

Every administrative change (settings, users, roles, invitations, API keys, channel credentials)
calls :func:`record` in the same transaction as the change, so the change and its audit row commit
or roll back together. ``changes`` is scrubbed before it is stored: any key that names a secret
keeps only the fact that it changed.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import AuditLog
from funnel.core.models.enums import ActorKind

#: Substrings of field names whose values never enter the audit log.
_SECRET_MARKERS = ("password", "secret", "token", "api_key", "key_hash", "encrypted")
REDACTED = "<changed>"


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    organisation_id: uuid.UUID
    kind: ActorKind
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    ip: str | None = None
    correlation_id: str | None = None


def scrub(changes: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            cleaned[key] = REDACTED
        elif isinstance(value, Mapping):
            cleaned[key] = scrub(value)
        elif isinstance(value, uuid.UUID):
            cleaned[key] = str(value)
        else:
            cleaned[key] = value
    return cleaned


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: {"from": old, "to": new}}`` for the fields that changed."""
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    entity_type: str,
    entity_id: uuid.UUID | str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditLog:
    row = AuditLog(
        organisation_id=actor.organisation_id,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        changes=scrub(changes or {}),
        ip=actor.ip,
        correlation_id=actor.correlation_id,
    )
    if actor.api_key_id is not None:
        row.changes = {**row.changes, "via_api_key": str(actor.api_key_id)}
    session.add(row)
    await session.flush()
    return row
