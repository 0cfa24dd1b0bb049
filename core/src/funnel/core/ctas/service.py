"""CTA operations. Delete is soft: conversations that offered a CTA keep their history (and
their ``cta_id``); a deleted CTA is no longer listed nor offered."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.ctas.repository import CtaRepository
from funnel.core.ctas.schemas import CtaCreate, CtaRead, CtaUpdate
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.db.unique import flush_unique
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.models import Cta
from funnel.core.models.enums import CtaType

NOT_NULL = ("type", "name", "payload", "is_active")


def ctas(session: AsyncSession) -> CtaRepository:
    return CtaRepository(session, current_organisation_id(session))


async def _cta(session: AsyncSession, cta_id: uuid.UUID) -> Cta:
    cta = await ctas(session).get_by_id(cta_id)
    if cta is None:
        raise NotFound("CTA not found")
    return cta


def _check(values: dict[str, Any]) -> None:
    # A link CTA without a link, or a link without a button to carry it, cannot be sent.
    if values.get("type") is CtaType.SEND_LINK and not values.get("url"):
        raise ValidationFailed("a send_link CTA needs a url", details={"field": "url"})
    if values.get("url") and not values.get("button_text"):
        raise ValidationFailed(
            "a CTA with a url needs button_text", details={"field": "button_text"}
        )


async def list_ctas(session: AsyncSession, *, include_inactive: bool = True) -> list[CtaRead]:
    repository = ctas(session)
    statement = repository.get_base_statement().order_by(Cta.name)
    if not include_inactive:
        statement = statement.where(Cta.is_active.is_(True))
    return [CtaRead.model_validate(c) for c in await repository.get_all(statement)]


async def get_cta(session: AsyncSession, cta_id: uuid.UUID) -> CtaRead:
    return CtaRead.model_validate(await _cta(session, cta_id))


async def create_cta(session: AsyncSession, actor: Actor, body: CtaCreate) -> CtaRead:
    values = body.model_dump()
    values["url"] = str(body.url) if body.url else None
    _check(values)
    cta = Cta(**values)
    await ctas(session).create(cta)
    await flush_unique(session, "a CTA with this name exists")
    await session.refresh(cta)
    await record(
        session,
        actor,
        "cta.created",
        entity_type="cta",
        entity_id=cta.id,
        changes={"name": cta.name},
    )
    return CtaRead.model_validate(cta)


async def update_cta(
    session: AsyncSession, actor: Actor, cta_id: uuid.UUID, body: CtaUpdate
) -> CtaRead:
    cta = await _cta(session, cta_id)
    changes = body.model_dump(exclude_unset=True)
    for field in NOT_NULL:
        if field in changes and changes[field] is None:
            raise ValidationFailed(f"{field} cannot be null", details={"field": field})
    if "url" in changes and changes["url"] is not None:
        changes["url"] = str(changes["url"])
    merged = {c: getattr(cta, c) for c in ("type", "url", "button_text")} | changes
    _check(merged)
    await ctas(session).update(cta, changes)
    await flush_unique(session, "a CTA with this name exists")
    await session.refresh(cta)
    await record(
        session,
        actor,
        "cta.updated",
        entity_type="cta",
        entity_id=cta.id,
        changes={"fields": sorted(changes)},
    )
    return CtaRead.model_validate(cta)


async def delete_cta(session: AsyncSession, actor: Actor, cta_id: uuid.UUID) -> None:
    cta = await _cta(session, cta_id)
    await session.execute(
        sa.update(Cta)
        .where(Cta.organisation_id == cta.organisation_id, Cta.id == cta.id)
        .values(deleted_at=dt.datetime.now(dt.UTC), is_active=False)
    )
    await record(
        session,
        actor,
        "cta.deleted",
        entity_type="cta",
        entity_id=cta.id,
        changes={"name": cta.name},
    )
