"""Lead operations the API (REST and GraphQL) calls. Every function runs in the caller's
transaction on a session scoped to one organisation; none commits."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funnel.core.audit.writer import Actor, record
from funnel.core.db.tenancy import current_organisation_id, scope_to_organisation
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.inbound.service import record_opt_out
from funnel.core.leads.pagination import Cursor
from funnel.core.leads.repository import LeadNoteRepository, LeadRepository
from funnel.core.leads.schemas import (
    WA_ID,
    Email,
    EraseReport,
    ImportReport,
    ImportRowError,
    LeadFilters,
    LeadPage,
    LeadRead,
    LeadUpdate,
    NoteCreate,
    NoteRead,
)
from funnel.core.models import (
    AuditLog,
    Conversation,
    Lead,
    LeadNote,
    MediaObject,
    Message,
    MessageStatusEvent,
    PipelineRun,
    PipelineStep,
    WebhookReceipt,
    WhatsAppChannel,
)
from funnel.core.models.enums import ConversationMode, OptOutSource

PAGE_MAX = 200
#: Rows per server-side cursor fetch and per chunk of CSV sent: bounds the export's memory.
EXPORT_BATCH = 1000
EXPORT_COLUMNS = (
    "id",
    "wa_id",
    "name",
    "email",
    "company",
    "language",
    "tags",
    "stage",
    "intent_level",
    "sentiment",
    "opted_out",
    "created_at",
    "last_inbound_at",
)
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000
IMPORT_COLUMNS = frozenset({"wa_id", "name", "email", "company", "language", "tags"})
_email: TypeAdapter[str] = TypeAdapter(Email)
#: The list's columns: exactly the fields of :class:`LeadRead`.
_READ_NAMES = tuple(LeadRead.model_fields)
_READ_COLUMNS = tuple(getattr(Lead, name) for name in _READ_NAMES)


def leads(session: AsyncSession) -> LeadRepository:
    return LeadRepository(session, current_organisation_id(session))


async def _lead(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    lead = await leads(session).get_by_id(lead_id)
    if lead is None:
        raise NotFound("lead not found")
    return lead


# ---------------------------------------------------------------- reading


async def list_leads(
    session: AsyncSession, filters: LeadFilters, *, cursor: str | None, limit: int = 50
) -> LeadPage:
    limit = max(1, min(limit, PAGE_MAX))
    after = Cursor.decode(cursor) if cursor else None
    # Plain rows of the response's columns: no ORM objects to build, track and read back.
    statement = leads(session).page(filters, after, limit, *_READ_COLUMNS)
    rows = (await session.execute(statement)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode()
    # One validation for the whole page, from plain dicts: a third cheaper than a model per
    # row, and than reading the rows' attributes.
    names = _READ_NAMES
    return LeadPage.model_validate(
        {"items": [dict(zip(names, row, strict=True)) for row in rows], "next_cursor": next_cursor}
    )


async def get_lead(session: AsyncSession, lead_id: uuid.UUID) -> LeadRead:
    return LeadRead.model_validate(await _lead(session, lead_id))


# ---------------------------------------------------------------- changing


async def update_lead(
    session: AsyncSession, actor: Actor, lead_id: uuid.UUID, body: LeadUpdate
) -> LeadRead:
    lead = await _lead(session, lead_id)
    fields = body.model_dump(exclude_unset=True)
    for required in ("stage", "attributes", "opted_out"):
        if required in fields and fields[required] is None:
            raise ValidationFailed(f"{required} cannot be null", details={"field": required})
    if fields.pop("opted_out", None) is False:
        raise ValidationFailed(
            "a lead opts back in by messaging the business; an operator cannot",
            details={"field": "opted_out"},
        )
    if body.opted_out:
        await record_opt_out(session, lead.organisation_id, lead.id, OptOutSource.AGENT)
    before = {key: getattr(lead, key) for key in fields}
    await leads(session).update(lead, fields)
    if "stage" in fields:
        # The lead's stage mirrors its open conversation's; both change together.
        await session.execute(
            sa.update(Conversation)
            .where(
                Conversation.organisation_id == lead.organisation_id,
                Conversation.lead_id == lead.id,
                Conversation.mode != ConversationMode.CLOSED,
            )
            .values(stage=fields["stage"])
        )
    await session.flush()
    await session.refresh(lead)
    # Field names only: the values are personal data, which the audit log must not copy.
    changed = sorted(k for k in fields if before.get(k) != fields[k])
    if body.opted_out:
        changed.append("opted_out")
    await record(
        session,
        actor,
        "lead.updated",
        entity_type="lead",
        entity_id=lead.id,
        changes={"fields": changed},
    )
    return LeadRead.model_validate(lead)


async def add_tags(session: AsyncSession, lead_id: uuid.UUID, tags: Sequence[str]) -> LeadRead:
    lead = await _lead(session, lead_id)
    merged = list(dict.fromkeys([*lead.tags, *tags]))
    if len(merged) > 50:
        raise ValidationFailed("a lead has at most 50 tags")
    await leads(session).update(lead, {"tags": merged}, flush=True)
    await session.refresh(lead)
    return LeadRead.model_validate(lead)


async def remove_tags(session: AsyncSession, lead_id: uuid.UUID, tags: Sequence[str]) -> LeadRead:
    lead = await _lead(session, lead_id)
    drop = set(tags)
    await leads(session).update(lead, {"tags": [t for t in lead.tags if t not in drop]}, flush=True)
    await session.refresh(lead)
    return LeadRead.model_validate(lead)


async def list_notes(session: AsyncSession, lead_id: uuid.UUID) -> list[NoteRead]:
    await _lead(session, lead_id)
    repository = LeadNoteRepository(session, current_organisation_id(session))
    rows = await repository.get_all(
        repository.get_base_statement()
        .where(LeadNote.lead_id == lead_id)
        .order_by(LeadNote.created_at.desc(), LeadNote.id.desc())
    )
    return [NoteRead.model_validate(r) for r in rows]


async def add_note(
    session: AsyncSession, lead_id: uuid.UUID, author_user_id: uuid.UUID | None, body: NoteCreate
) -> NoteRead:
    lead = await _lead(session, lead_id)
    note = LeadNote(lead_id=lead.id, author_user_id=author_user_id, body=body.body)
    await LeadNoteRepository(session, lead.organisation_id).create(note, flush=True)
    await session.refresh(note)
    return NoteRead.model_validate(note)


# ---------------------------------------------------------------- CSV export and import


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def _export_row(lead: sa.Row[Any]) -> list[Any]:
    row: list[Any] = []
    for column in EXPORT_COLUMNS:
        value = getattr(lead, column)
        if column == "tags":
            value = ";".join(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        text = "" if value is None else str(value)
        # A cell starting with = + - @ is a formula to spreadsheet software (CSV injection).
        if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
            text = "'" + text
        row.append(text)
    return row


async def export_csv(
    sessionmaker: async_sessionmaker[AsyncSession],
    organisation_id: uuid.UUID,
    filters: LeadFilters,
) -> AsyncIterator[bytes]:
    """The filtered leads as CSV, streamed from a server-side cursor in chunks of
    :data:`EXPORT_BATCH` rows: memory stays flat however many leads there are.

    It opens its own session (scoped to the organisation): the response body is produced after
    the route has returned, when the request's session has already been committed and closed.
    """
    async with sessionmaker() as session:
        await scope_to_organisation(session, organisation_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        yield _drain(buffer)
        # Plain rows, not ORM objects: nothing accumulates in the session's identity map.
        statement = (
            LeadRepository(session, organisation_id)
            .filtered(filters)
            .with_only_columns(*(getattr(Lead, c) for c in EXPORT_COLUMNS))
        )
        result = await session.stream(statement.execution_options(yield_per=EXPORT_BATCH))
        async for partition in result.partitions(EXPORT_BATCH):
            for lead in partition:
                writer.writerow(_export_row(lead))
            yield _drain(buffer)
        await session.rollback()


def _parse_import(data: bytes) -> tuple[list[dict[str, Any]], list[ImportRowError]]:
    errors: list[ImportRowError] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [ImportRowError(line=1, field=None, message="the file is not UTF-8 text")]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if "wa_id" not in header:
        return [], [ImportRowError(line=1, field="wa_id", message="a wa_id column is required")]
    unknown = sorted(set(header) - IMPORT_COLUMNS)
    if unknown:
        errors.append(
            ImportRowError(line=1, field=None, message=f"unknown columns: {', '.join(unknown)}")
        )
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader, start=2):
        if len(rows) >= IMPORT_MAX_ROWS:
            errors.append(
                ImportRowError(line=index, field=None, message=f"more than {IMPORT_MAX_ROWS} rows")
            )
            break
        if None in raw:
            errors.append(ImportRowError(line=index, field=None, message="too many cells"))
            continue
        wa_id = (raw.get("wa_id") or "").strip().lstrip("+").replace(" ", "")
        if not WA_ID.match(wa_id):
            errors.append(
                ImportRowError(line=index, field="wa_id", message="not an international number")
            )
            continue
        if wa_id in seen:
            errors.append(
                ImportRowError(
                    line=index, field="wa_id", message=f"duplicate of line {seen[wa_id]}"
                )
            )
            continue
        seen[wa_id] = index
        row: dict[str, Any] = {"wa_id": wa_id}
        for field, limit in (("name", 255), ("company", 255), ("language", 16)):
            value = (raw.get(field) or "").strip()
            if len(value) > limit:
                errors.append(ImportRowError(line=index, field=field, message="too long"))
            elif value:
                row[field] = value
        email = (raw.get("email") or "").strip()
        if email:
            try:
                row["email"] = _email.validate_python(email)
            except ValidationError:
                errors.append(ImportRowError(line=index, field="email", message="not an email"))
        tags = [t.strip() for t in (raw.get("tags") or "").split(";") if t.strip()]
        if any(len(t) > 50 for t in tags) or len(tags) > 20:
            errors.append(ImportRowError(line=index, field="tags", message="too many or too long"))
        elif tags:
            row["tags"] = tags
        rows.append(row)
    return rows, errors


async def import_csv(
    session: AsyncSession, actor: Actor, data: bytes, channel_id: uuid.UUID | None
) -> ImportReport:
    """Create or update leads from a CSV file (columns ``wa_id`` required; ``name``, ``email``,
    ``company``, ``language``, ``tags`` separated by ``;``).

    All or nothing: every row is validated first, and a file with any invalid row is refused as
    a whole (422, each problem with its line) so a corrected file can simply be uploaded again.
    An existing lead (same number on the channel) gets the non-empty cells; tags are merged.
    """
    organisation_id = current_organisation_id(session)
    if len(data) > IMPORT_MAX_BYTES:
        raise ValidationFailed(f"the file is larger than {IMPORT_MAX_BYTES} bytes")
    channels = (
        (
            await session.execute(
                sa.select(WhatsAppChannel.id).where(
                    WhatsAppChannel.organisation_id == organisation_id
                )
            )
        )
        .scalars()
        .all()
    )
    if channel_id is None:
        if len(channels) != 1:
            raise ValidationFailed("name the channel_id the leads belong to")
        channel_id = channels[0]
    elif channel_id not in channels:
        raise NotFound("channel not found")
    rows, errors = _parse_import(data)
    if errors:
        raise ValidationFailed(
            "the file has invalid rows; nothing was imported",
            details={"errors": [e.model_dump() for e in errors[:500]]},
        )
    created = updated = 0
    for start in range(0, len(rows), 1000):
        batch = rows[start : start + 1000]
        for row in batch:
            row.setdefault("tags", [])
        statement = insert(Lead).values(
            [{"organisation_id": organisation_id, "channel_id": channel_id, **r} for r in batch]
        )
        excluded = statement.excluded
        result: sa.Result[Any] = await session.execute(
            statement.on_conflict_do_update(
                index_elements=[Lead.organisation_id, Lead.channel_id, Lead.wa_id],
                index_where=Lead.wa_id.is_not(None),
                set_={
                    "name": sa.func.coalesce(excluded.name, Lead.name),
                    "email": sa.func.coalesce(excluded.email, Lead.email),
                    "company": sa.func.coalesce(excluded.company, Lead.company),
                    "language": sa.func.coalesce(excluded.language, Lead.language),
                    # Merged and deduplicated; the column names are fixed text, not input.
                    "tags": sa.literal_column(
                        "ARRAY(SELECT DISTINCT t FROM unnest(leads.tags || excluded.tags) AS t)"
                    ),
                    "updated_at": sa.func.now(),
                },
            ).returning(sa.literal_column("xmax = 0"))
        )
        for (inserted,) in result:
            created += 1 if inserted else 0
            updated += 0 if inserted else 1
    await record(
        session,
        actor,
        "lead.imported",
        entity_type="lead",
        changes={"created": created, "updated": updated},
    )
    return ImportReport(created=created, updated=updated, errors=[])


# ---------------------------------------------------------------- GDPR


def _plain(row: Any) -> dict[str, Any]:
    """A row's loaded columns; deferred binary blobs (media bytes) are left out."""
    unloaded = sa.inspect(row).unloaded
    return {
        column.key: getattr(row, column.key)
        for column in sa.inspect(type(row)).column_attrs
        if column.key not in unloaded
    }


async def gdpr_export(session: AsyncSession, lead_id: uuid.UUID) -> dict[str, Any]:
    """Everything stored about the lead, as JSON-ready data (a data subject access request)."""
    lead = await _lead(session, lead_id)
    organisation_id = lead.organisation_id

    async def rows(statement: Any) -> list[dict[str, Any]]:
        result: sa.ScalarResult[Any] = (await session.execute(statement)).scalars()
        return [_plain(r) for r in result]

    conversations = await rows(
        sa.select(Conversation).where(
            Conversation.organisation_id == organisation_id, Conversation.lead_id == lead.id
        )
    )
    conversation_ids = [c["id"] for c in conversations]
    messages = await rows(
        sa.select(Message)
        .where(Message.organisation_id == organisation_id, Message.lead_id == lead.id)
        .order_by(Message.created_at)
    )
    wamids = [m["wamid"] for m in messages if m["wamid"]]
    media_ids = [m["media_id"] for m in messages if m["media_id"]]
    return {
        "lead": _plain(lead),
        "notes": await rows(
            sa.select(LeadNote).where(
                LeadNote.organisation_id == organisation_id, LeadNote.lead_id == lead.id
            )
        ),
        "conversations": conversations,
        "messages": messages,
        "message_status_events": await rows(
            sa.select(MessageStatusEvent).where(
                MessageStatusEvent.organisation_id == organisation_id,
                MessageStatusEvent.wamid.in_(wamids),
            )
        ),
        "media_objects": await rows(
            sa.select(MediaObject).where(
                MediaObject.organisation_id == organisation_id, MediaObject.id.in_(media_ids)
            )
        ),
        "pipeline_runs": await rows(
            sa.select(PipelineRun).where(
                PipelineRun.organisation_id == organisation_id,
                PipelineRun.conversation_id.in_(conversation_ids),
            )
        ),
        "pipeline_steps": await rows(
            sa.select(PipelineStep)
            .join(PipelineRun, PipelineRun.id == PipelineStep.run_id)
            .where(
                PipelineStep.organisation_id == organisation_id,
                PipelineRun.conversation_id.in_(conversation_ids),
            )
        ),
    }


async def erase_lead(session: AsyncSession, actor: Actor, lead_id: uuid.UUID) -> EraseReport:
    """The right to erasure: remove the lead and everything derived from it.

    Deleting the lead cascades (composite foreign keys) to its notes, conversations (with their
    rolling summaries), messages, pipeline runs and steps (whose outputs quote the messages),
    scheduled actions and outbox rows (whose payloads carry the number). What no foreign key
    reaches is removed here first: the media objects its messages point at (``SET NULL``),
    the status events (joined by wamid only), the raw webhook bodies that carry its number, and
    earlier audit entries' changes about it (kept as events, emptied). The organisation's own
    knowledge base holds no lead data, so there are no lead-derived embeddings to remove.
    The erase itself is audited without the lead's id, number or name.
    """
    lead = await _lead(session, lead_id)
    organisation_id = lead.organisation_id
    messages = (
        await session.execute(
            sa.select(Message.wamid, Message.media_id).where(
                Message.organisation_id == organisation_id, Message.lead_id == lead.id
            )
        )
    ).all()
    wamids = [m.wamid for m in messages if m.wamid]
    media_ids = [m.media_id for m in messages if m.media_id]
    conversations = (
        await session.execute(
            sa.select(sa.func.count()).where(
                Conversation.organisation_id == organisation_id, Conversation.lead_id == lead.id
            )
        )
    ).scalar_one()
    status_events = 0
    for start in range(0, len(wamids), 1000):
        result = await session.execute(
            sa.delete(MessageStatusEvent).where(
                MessageStatusEvent.organisation_id == organisation_id,
                MessageStatusEvent.wamid.in_(wamids[start : start + 1000]),
            )
        )
        status_events += int(getattr(result, "rowcount", 0))
    receipts = 0
    for contact in (lead.wa_id, lead.bsuid):
        if contact:
            result = await session.execute(
                sa.delete(WebhookReceipt).where(
                    WebhookReceipt.organisation_id == organisation_id,
                    WebhookReceipt.channel_id == lead.channel_id,
                    # Digits and ASCII ids survive the escape encoding unchanged.
                    sa.func.strpos(sa.func.encode(WebhookReceipt.raw_body, "escape"), contact) > 0,
                )
            )
            receipts += int(getattr(result, "rowcount", 0))
    await session.execute(
        sa.update(AuditLog)
        .where(
            AuditLog.organisation_id == organisation_id,
            AuditLog.entity_type == "lead",
            AuditLog.entity_id == str(lead.id),
        )
        .values(entity_id=None, changes={"erased": True})
    )
    await session.execute(
        sa.delete(Lead).where(Lead.organisation_id == organisation_id, Lead.id == lead.id)
    )
    media = 0
    if media_ids:
        result = await session.execute(
            sa.delete(MediaObject).where(
                MediaObject.organisation_id == organisation_id, MediaObject.id.in_(media_ids)
            )
        )
        media = int(getattr(result, "rowcount", 0))
    session.expunge(lead)
    report = EraseReport(
        lead_id=lead_id,
        conversations=int(conversations),
        messages=len(messages),
        media_objects=media,
        status_events=status_events,
        webhook_receipts=receipts,
    )
    await record(
        session,
        actor,
        "lead.erased",
        entity_type="lead",
        changes=report.model_dump(exclude={"lead_id"}),
    )
    return report
