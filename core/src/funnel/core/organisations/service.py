"""The organisation's profile and settings (its own only), and the platform listing."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, diff, record
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.models import Organisation
from funnel.core.organisations.repository import (
    OrganisationRepository,
    PlatformOrganisationRepository,
)
from funnel.core.organisations.schemas import (
    OrganisationPage,
    OrganisationRead,
    OrganisationSettings,
    OrganisationUpdate,
    SettingsUpdate,
)


async def get_own(session: AsyncSession) -> Organisation:
    organisation = await OrganisationRepository.scoped(session).get_own()
    if organisation is None:
        raise NotFound("organisation not found")
    return organisation


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _apply(
    session: AsyncSession, actor: Actor, changes: dict[str, Any], action: str
) -> Organisation:
    organisation = await get_own(session)
    values = {key: _plain(value) for key, value in changes.items()}
    table = Organisation.__table__
    cleared = sorted(k for k, v in values.items() if v is None and not table.c[k].nullable)
    if cleared:
        raise ValidationFailed(f"cannot be cleared: {', '.join(cleared)}")
    before = {key: getattr(organisation, key) for key in values}
    for key, value in values.items():
        setattr(organisation, key, value)
    await session.flush()
    # updated_at is set by the server on UPDATE; load it now rather than lazily (async).
    await session.refresh(organisation)
    changed = diff(before, values)
    if changed:
        await record(
            session,
            actor,
            action,
            entity_type="organisation",
            entity_id=organisation.id,
            changes=changed,
        )
    return organisation


async def update_own(
    session: AsyncSession, actor: Actor, update: OrganisationUpdate
) -> OrganisationRead:
    organisation = await _apply(
        session, actor, update.model_dump(exclude_unset=True), "organisation.updated"
    )
    return OrganisationRead.model_validate(organisation)


#: JSON settings whose null means "not set" and are stored as '{}' (see OrganisationSettings).
_NOT_SET_AS_EMPTY = ("quiet_hours", "followup_policy")


async def get_settings(session: AsyncSession) -> OrganisationSettings:
    return OrganisationSettings.model_validate(await get_own(session))


async def update_settings(
    session: AsyncSession, actor: Actor, update: SettingsUpdate
) -> OrganisationSettings:
    changes = update.model_dump(exclude_unset=True)
    for key in _NOT_SET_AS_EMPTY:
        # Clearing these stores the "not set" form ('{}'), which reads back as null.
        if key in changes and changes[key] is None:
            changes[key] = {}
    organisation = await _apply(session, actor, changes, "organisation.settings_updated")
    return OrganisationSettings.model_validate(organisation)


def _encode_cursor(slug: str, organisation_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{slug}|{organisation_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    try:
        slug, _, raw_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return slug, uuid.UUID(raw_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("invalid cursor") from exc


async def list_all(
    system_session: AsyncSession, *, cursor: str | None, limit: int
) -> OrganisationPage:
    """Every organisation, keyset-paginated by slug. Unscoped: platform administrators only."""
    after = _decode_cursor(cursor) if cursor else None
    rows = list(await PlatformOrganisationRepository(system_session).page(after, limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return OrganisationPage(
        items=[OrganisationRead.model_validate(o) for o in rows],
        next_cursor=_encode_cursor(rows[-1].slug, rows[-1].id) if more and rows else None,
    )
