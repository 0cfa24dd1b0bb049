"""Template operations: local CRUD, submission to Meta, status sync, deletion.

Meta allows editing a template only while it is not under review or approved in use, so the
local copy is editable in ``draft``, ``rejected`` and ``paused`` only (the purpose, a local
setting, always). An approved template is deleted only with explicit confirmation, because
Meta blocks its name for 30 days and sends that use it start failing. Graph calls go through
the organisation's WhatsApp channel (its WABA); nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.channels.service import GraphFactory
from funnel.core.db.tenancy import TenantRepository, current_organisation_id
from funnel.core.db.unique import flush_unique
from funnel.core.errors import Conflict, NotFound, UpstreamFailed, ValidationFailed
from funnel.core.events import EventType, emit
from funnel.core.models import Template, WhatsAppChannel
from funnel.core.models.enums import TemplateCategory, TemplateParameterFormat, TemplateStatus
from funnel.core.security.crypto import SecretBox
from funnel.core.templates.schemas import (
    PLACEHOLDER,
    SyncReport,
    TemplateContent,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)
from funnel.core.whatsapp.errors import GraphError
from funnel.core.whatsapp.graph import GraphClient

EDITABLE = frozenset({TemplateStatus.DRAFT, TemplateStatus.REJECTED, TemplateStatus.PAUSED})
#: Meta's status names (webhooks and Graph listings) → ours.
META_STATUS: dict[str, TemplateStatus] = {
    "APPROVED": TemplateStatus.APPROVED,
    "PENDING": TemplateStatus.PENDING,
    "IN_REVIEW": TemplateStatus.PENDING,
    "REJECTED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.DISABLED,
    "IN_APPEAL": TemplateStatus.IN_APPEAL,
    "PENDING_DELETION": TemplateStatus.PENDING_DELETION,
    "DELETED": TemplateStatus.DELETED,
    "LIMIT_EXCEEDED": TemplateStatus.LIMIT_EXCEEDED,
    "ARCHIVED": TemplateStatus.ARCHIVED,
    "FLAGGED": TemplateStatus.FLAGGED,
    "REINSTATED": TemplateStatus.APPROVED,
}


class TemplateRepository(TenantRepository[Template]):
    model = Template


def templates(session: AsyncSession) -> TemplateRepository:
    return TemplateRepository(session, current_organisation_id(session))


async def _template(session: AsyncSession, template_id: uuid.UUID) -> Template:
    template = await templates(session).get_by_id(template_id)
    if template is None:
        raise NotFound("template not found")
    return template


def _placeholders(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def _check_names(names: list[str], parameter_format: TemplateParameterFormat, where: str) -> None:
    if parameter_format is TemplateParameterFormat.POSITIONAL:
        if names != [str(i) for i in range(1, len(names) + 1)]:
            raise ValidationFailed(f"{where}: positional placeholders must be {{{{1}}}}..{{{{n}}}}")
    elif any(re.fullmatch(r"[a-z][a-z0-9_]*", n) is None for n in names):
        raise ValidationFailed(f"{where}: named placeholders are lowercase words")


def components(
    content: TemplateContent, parameter_format: TemplateParameterFormat
) -> list[dict[str, Any]]:
    """Meta's component list, with the examples review needs; refuses a placeholder without one."""
    named = parameter_format is TemplateParameterFormat.NAMED
    out: list[dict[str, Any]] = []
    if content.header is not None:
        header: dict[str, Any] = {"type": "HEADER", "format": content.header.format}
        if content.header.format == "TEXT":
            assert content.header.text is not None
            names = _placeholders(content.header.text)
            if len(names) > 1:
                raise ValidationFailed("a text header has at most one placeholder")
            _check_names(names, parameter_format, "header")
            header["text"] = content.header.text
            if names:
                if len(content.header.examples) != 1:
                    raise ValidationFailed("the header placeholder needs one example")
                header["example"] = (
                    {
                        "header_text_named_params": [
                            {"param_name": names[0], "example": content.header.examples[0]}
                        ]
                    }
                    if named
                    else {"header_text": content.header.examples}
                )
        else:
            if len(content.header.examples) != 1:
                raise ValidationFailed("a media header needs one sample media handle")
            header["example"] = {"header_handle": content.header.examples}
        out.append(header)
    names = _placeholders(content.body)
    _check_names(names, parameter_format, "body")
    body: dict[str, Any] = {"type": "BODY", "text": content.body}
    examples = content.body_examples
    if names:
        if named:
            if not isinstance(examples, dict) or set(examples) != set(names):
                raise ValidationFailed("every named body placeholder needs an example, by name")
            body["example"] = {
                "body_text_named_params": [{"param_name": n, "example": examples[n]} for n in names]
            }
        else:
            if not isinstance(examples, list) or len(examples) != len(names):
                raise ValidationFailed(
                    f"the body has {len(names)} placeholders: give as many examples"
                )
            body["example"] = {"body_text": [examples]}
    out.append(body)
    if content.footer:
        out.append({"type": "FOOTER", "text": content.footer})
    if content.buttons:
        buttons = []
        for button in content.buttons:
            item: dict[str, Any] = {"type": button.type, "text": button.text}
            if button.url:
                item["url"] = button.url
                if button.example:
                    item["example"] = [button.example]
            if button.phone_number:
                item["phone_number"] = button.phone_number
            buttons.append(item)
        out.append({"type": "BUTTONS", "buttons": buttons})
    return out


async def list_templates(session: AsyncSession) -> list[TemplateRead]:
    repository = templates(session)
    rows = await repository.get_all(
        repository.get_base_statement().order_by(Template.name, Template.language)
    )
    return [TemplateRead.model_validate(t) for t in rows]


async def get_template(session: AsyncSession, template_id: uuid.UUID) -> TemplateRead:
    return TemplateRead.model_validate(await _template(session, template_id))


async def create_template(
    session: AsyncSession, actor: Actor, body: TemplateCreate
) -> TemplateRead:
    template = Template(
        name=body.name,
        language=body.language,
        category=body.category,
        parameter_format=body.parameter_format,
        purpose=body.purpose,
        components=components(body.content, body.parameter_format),
        status=TemplateStatus.DRAFT,
    )
    await templates(session).create(template)
    await flush_unique(session, "a template with this name and language exists")
    await session.refresh(template)
    await record(
        session,
        actor,
        "template.created",
        entity_type="template",
        entity_id=template.id,
        changes={"name": template.name},
    )
    return TemplateRead.model_validate(template)


async def update_template(
    session: AsyncSession, actor: Actor, template_id: uuid.UUID, body: TemplateUpdate
) -> TemplateRead:
    template = await _template(session, template_id)
    fields = body.model_dump(exclude_unset=True)
    if set(fields) - {"purpose"} and template.status not in EDITABLE:
        raise Conflict(
            f"a {template.status.value} template cannot be edited (Meta allows edits to draft, "
            "rejected and paused templates); only its purpose can change"
        )
    for field in ("category", "parameter_format"):
        if field in fields and fields[field] is None:
            raise ValidationFailed(f"{field} cannot be null", details={"field": field})
    if "category" in fields:
        template.category = fields["category"]
    if "parameter_format" in fields:
        template.parameter_format = fields["parameter_format"]
    if "purpose" in fields:
        template.purpose = fields["purpose"]
    if body.content is not None:
        template.components = components(body.content, template.parameter_format)
    await session.flush()
    await session.refresh(template)
    await record(
        session,
        actor,
        "template.updated",
        entity_type="template",
        entity_id=template.id,
        changes={"fields": sorted(fields)},
    )
    return TemplateRead.model_validate(template)


async def _graph(session: AsyncSession, box: SecretBox, factory: GraphFactory) -> GraphClient:
    """A Graph client for the organisation's WhatsApp Business Account (its oldest connected
    channel: templates belong to the WABA, shared by its numbers)."""
    channel = (
        await session.execute(
            sa.select(WhatsAppChannel)
            .where(
                WhatsAppChannel.organisation_id == current_organisation_id(session),
                WhatsAppChannel.is_connected.is_(True),
            )
            .order_by(WhatsAppChannel.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if channel is None:
        raise Conflict("connect a WhatsApp channel first")
    return factory(
        SecretStr(box.decrypt(channel.access_token_encrypted)),
        channel.phone_number_id,
        channel.waba_id,
        channel.graph_version,
    )


async def submit_template(
    session: AsyncSession,
    actor: Actor,
    box: SecretBox,
    factory: GraphFactory,
    template_id: uuid.UUID,
) -> TemplateRead:
    template = await _template(session, template_id)
    if template.status is not TemplateStatus.DRAFT:
        raise Conflict(f"only a draft can be submitted; this one is {template.status.value}")
    graph = await _graph(session, box, factory)
    try:
        created = await graph.create_template(
            template.name,
            template.language,
            template.category.value.upper(),
            template.components,
            parameter_format=template.parameter_format.value.upper(),
        )
    except GraphError as exc:
        raise UpstreamFailed(f"Meta refused the template: {exc}") from exc
    now = dt.datetime.now(dt.UTC)
    template.meta_template_id = created.id
    template.status = META_STATUS.get(created.status.upper(), TemplateStatus.PENDING)
    template.submitted_at = now
    template.rejection_reason = None
    if template.status is TemplateStatus.APPROVED:
        template.approved_at = now
    await status_changed(session, template)
    await session.flush()
    await session.refresh(template)
    await record(
        session,
        actor,
        "template.submitted",
        entity_type="template",
        entity_id=template.id,
        changes={"name": template.name},
    )
    return TemplateRead.model_validate(template)


async def resubmit_template(
    session: AsyncSession,
    actor: Actor,
    box: SecretBox,
    factory: GraphFactory,
    template_id: uuid.UUID,
) -> TemplateRead:
    """Send a rejected template, as edited locally since, back to Meta for review.

    Meta keeps a rejected template under its id and name: it is edited in place (which puts it
    back under review), never deleted and recreated (a deleted name is blocked for 30 days).
    A rejected template Meta never knew (no id) is submitted as new.
    """
    template = await _template(session, template_id)
    if template.status is not TemplateStatus.REJECTED:
        raise Conflict(
            f"only a rejected template can be resubmitted; this one is {template.status.value}"
        )
    graph = await _graph(session, box, factory)
    now = dt.datetime.now(dt.UTC)
    try:
        if template.meta_template_id is None:
            created = await graph.create_template(
                template.name,
                template.language,
                template.category.value.upper(),
                template.components,
                parameter_format=template.parameter_format.value.upper(),
            )
            template.meta_template_id = created.id
            status = META_STATUS.get(created.status.upper(), TemplateStatus.PENDING)
        else:
            await graph.edit_template(
                template.meta_template_id,
                category=template.category.value.upper(),
                components=template.components,
            )
            status = TemplateStatus.PENDING
    except GraphError as exc:
        raise UpstreamFailed(f"Meta refused the template: {exc}") from exc
    if _apply_status(template, status, None, now):
        await status_changed(session, template)
    template.submitted_at = now
    await session.flush()
    await session.refresh(template)
    await record(
        session,
        actor,
        "template.resubmitted",
        entity_type="template",
        entity_id=template.id,
        changes={"name": template.name},
    )
    return TemplateRead.model_validate(template)


async def sync_templates(
    session: AsyncSession, actor: Actor, box: SecretBox, factory: GraphFactory
) -> SyncReport:
    """Bring every local template's status in line with Meta's, and import the WABA's
    templates created elsewhere (Business Manager) so the planner can use them."""
    graph = await _graph(session, box, factory)
    organisation_id = current_organisation_id(session)
    local = {
        (t.name, t.language): t
        for t in await templates(session).get_all(templates(session).get_base_statement())
    }
    by_meta_id = {t.meta_template_id: t for t in local.values() if t.meta_template_id}
    now = dt.datetime.now(dt.UTC)
    updated = imported = 0
    new: list[Template] = []
    after: str | None = None
    while True:
        try:
            page = await graph.list_templates(after=after)
        except GraphError as exc:
            raise UpstreamFailed(f"Meta's template list failed: {exc}") from exc
        for remote in page.templates:
            status = META_STATUS.get(remote.status.upper())
            if status is None:
                continue
            template = by_meta_id.get(remote.id) or local.get((remote.name, remote.language))
            if template is None:
                try:
                    category = TemplateCategory((remote.category or "utility").lower())
                except ValueError:
                    continue
                template = Template(
                    organisation_id=organisation_id,
                    name=remote.name,
                    language=remote.language,
                    category=category,
                    components=remote.components,
                    parameter_format=TemplateParameterFormat(
                        (remote.parameter_format or "positional").lower()
                    ),
                    meta_template_id=remote.id,
                    status=status,
                    last_synced_at=now,
                    approved_at=now if status is TemplateStatus.APPROVED else None,
                )
                session.add(template)
                new.append(template)
                imported += 1
                continue
            if template.status is not status or template.meta_template_id != remote.id:
                updated += 1
            if _apply_status(template, status, remote.rejected_reason, now):
                await status_changed(session, template)
            template.meta_template_id = remote.id
            template.last_synced_at = now
        after = page.after
        if after is None:
            break
    await session.flush()
    for template in new:  # their ids exist from the flush on
        await status_changed(session, template)
    await record(
        session,
        actor,
        "template.synced",
        entity_type="template",
        changes={"updated": updated, "imported": imported},
    )
    return SyncReport(updated=updated, imported=imported)


def _apply_status(
    template: Template, status: TemplateStatus, reason: str | None, now: dt.datetime
) -> bool:
    """Set the status (and what goes with it); True when it changed."""
    changed = template.status is not status
    if status is TemplateStatus.APPROVED and template.status is not TemplateStatus.APPROVED:
        template.approved_at = now
    template.status = status
    template.rejection_reason = (
        reason if status is TemplateStatus.REJECTED and reason and reason != "NONE" else None
    )
    return changed


async def status_changed(session: AsyncSession, template: Template) -> None:
    """Tell the dashboards (``templateStatusChanged``), once this transaction commits."""
    await emit(
        session,
        template.organisation_id,
        EventType.TEMPLATE_STATUS_CHANGED,
        template_id=template.id,
        status=template.status.value,
    )


async def apply_template_status_update(
    session: AsyncSession, organisation_id: uuid.UUID, event: Mapping[str, Any]
) -> bool:
    """Apply a ``message_template_status_update`` webhook change (its ``value`` object:
    ``event``, ``message_template_id``, ``message_template_name``,
    ``message_template_language``, ``reason``) to the organisation's template.

    For the worker, on a session it has scoped to the organisation that owns the channel the
    webhook arrived for. Returns False when no local template matches (one created outside
    Funnel: the next sync imports it) or the status is unknown. Idempotent: a redelivered
    event writes the same values.
    """
    status = META_STATUS.get(str(event.get("event", "")).upper())
    if status is None:
        return False
    meta_id = str(event.get("message_template_id") or "")
    name = event.get("message_template_name")
    language = event.get("message_template_language")
    match = (
        Template.meta_template_id == meta_id
        if meta_id
        else sa.and_(Template.name == name, Template.language == language)
    )
    template = (
        await session.execute(
            sa.select(Template)
            .where(Template.organisation_id == organisation_id, match)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if template is None:
        return False
    reason = event.get("reason")
    if _apply_status(template, status, str(reason) if reason else None, dt.datetime.now(dt.UTC)):
        await status_changed(session, template)
    template.last_synced_at = dt.datetime.now(dt.UTC)
    await session.flush()
    return True


async def delete_template(
    session: AsyncSession,
    actor: Actor,
    box: SecretBox,
    factory: GraphFactory,
    template_id: uuid.UUID,
    *,
    confirm: bool,
) -> None:
    template = await _template(session, template_id)
    if template.status is TemplateStatus.APPROVED and not confirm:
        raise Conflict(
            "the template is approved and may be in use; deleting it on Meta blocks its name "
            "for 30 days. Repeat with confirm=true to delete it."
        )
    if template.meta_template_id is not None and template.status is not TemplateStatus.DELETED:
        graph = await _graph(session, box, factory)
        try:
            await graph.delete_template(template.name, template_id=template.meta_template_id)
        except GraphError as exc:
            raise UpstreamFailed(f"Meta did not delete the template: {exc}") from exc
    await templates(session).delete_by_id(template.id)
    await record(
        session,
        actor,
        "template.deleted",
        entity_type="template",
        entity_id=template.id,
        changes={"name": template.name},
    )
