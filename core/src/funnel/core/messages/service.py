"""A person's messages to a lead, always through the send planner, and message history.

Every send is planned by :mod:`funnel.core.sending` (opt-out first, then the 24-hour window)
and queued in the outbox, whose sender delivers it; nothing here calls Graph's send endpoint.
The recipient is the conversation's lead, resolved by the outbox from the lead row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.channels.service import GraphFactory
from funnel.core.conversations.schemas import MessageRead
from funnel.core.db.tenancy import current_organisation_id
from funnel.core.errors import Conflict, NotFound, UpstreamFailed, ValidationFailed
from funnel.core.events.publisher import EventType, emit
from funnel.core.messages.schemas import (
    ButtonsSend,
    ListSend,
    MessageWithHistory,
    SendAccepted,
    StatusEventRead,
    TemplateSend,
    TextSend,
)
from funnel.core.models import (
    Conversation,
    Lead,
    MediaObject,
    Message,
    MessageStatusEvent,
    Organisation,
    Outbox,
    Template,
    WhatsAppChannel,
)
from funnel.core.models.enums import (
    MessageAuthor,
    MessageType,
    OutboxKind,
    TemplateParameterFormat,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.scheduling.handoff import note_human_activity
from funnel.core.security.crypto import SecretBox
from funnel.core.sending.planner import SendPlan, SendVerdict, plan_send
from funnel.core.sending.service import HumanSend, queue_plan, send_human_message, window_open
from funnel.core.whatsapp.errors import GraphError, GraphValidationError
from funnel.core.whatsapp.graph import GraphClient
from funnel.core.whatsapp.graph_models import (
    ListRow,
    ListSection,
    MediaRef,
    ReplyButton,
    TemplateComponent,
    build_buttons,
    build_list,
    build_media,
    build_template,
    build_text,
)

#: What a person may upload, by declared type, with WhatsApp's size limit for the kind.
MEDIA_TYPES: dict[str, tuple[str, int]] = {
    "image/jpeg": ("image", 5 * 1024 * 1024),
    "image/png": ("image", 5 * 1024 * 1024),
    "video/mp4": ("video", 16 * 1024 * 1024),
    "audio/mpeg": ("audio", 16 * 1024 * 1024),
    "audio/ogg": ("audio", 16 * 1024 * 1024),
    "audio/aac": ("audio", 16 * 1024 * 1024),
    "application/pdf": ("document", 16 * 1024 * 1024),
}
MEDIA_MAX_BYTES = max(limit for _, limit in MEDIA_TYPES.values())
#: The first bytes of the types a browser is most often wrong about: a file that claims to be
#: one and is not is refused rather than forwarded to the customer.
_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG", "application/pdf": b"%PDF"}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
#: The Graph builders (which enforce WhatsApp's limits) make a whole request, recipient
#: included; only the message part is kept, and the outbox adds the lead's own number.
_NO_RECIPIENT = "0"


def _part(body: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(body["type"])
    return {"type": kind, kind: body[kind]}


async def _thread(session: AsyncSession, conversation_id: uuid.UUID) -> tuple[Conversation, Lead]:
    organisation_id = current_organisation_id(session)
    row = (
        await session.execute(
            sa.select(Conversation, Lead)
            .join(
                Lead,
                sa.and_(
                    Lead.organisation_id == Conversation.organisation_id,
                    Lead.id == Conversation.lead_id,
                ),
            )
            .where(
                Conversation.organisation_id == organisation_id,
                Conversation.id == conversation_id,
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("conversation not found")
    return row[0], row[1]


def _refused(plan: SendPlan) -> Conflict:
    return Conflict(
        f"not sent: {plan.detail}",
        details={"reason": plan.reason.value if plan.reason else None},
    )


async def _accepted(session: AsyncSession, sent: HumanSend, idempotency_key: str) -> SendAccepted:
    organisation_id = current_organisation_id(session)
    if not sent.plan.sendable:
        raise _refused(sent.plan)
    # ``None`` from a sendable plan: this key was queued before (a retried request). Answer
    # with the message it queued then, so a retry is harmless and looks like the first call.
    where = (
        Outbox.id == sent.outbox_id
        if sent.outbox_id is not None
        else Outbox.idempotency_key == idempotency_key
    )
    message = (
        await session.execute(
            sa.select(Message)
            .join(Outbox, Outbox.message_id == Message.id)
            .where(Outbox.organisation_id == organisation_id, where)
        )
    ).scalar_one()
    if sent.outbox_id is not None:
        # The dashboard shows the queued message at once (pending), and the conversation's
        # preview and auto-release moved; both are announced when this transaction commits.
        await emit(
            session,
            organisation_id,
            EventType.MESSAGE_CREATED,
            conversation_id=message.conversation_id,
            message_ids=[message.id],
        )
        await emit(
            session,
            organisation_id,
            EventType.CONVERSATION_UPDATED,
            conversation_id=message.conversation_id,
        )
    return SendAccepted(
        verdict=sent.plan.verdict.value, message=MessageRead.model_validate(message)
    )


async def send(
    session: AsyncSession,
    *,
    user_id: uuid.UUID | None,
    body: TextSend | ButtonsSend | ListSend | TemplateSend,
    idempotency_key: str,
    correlation_id: str | None,
) -> SendAccepted:
    """Queue a person's text, interactive or template message to the conversation's lead.

    Free-form messages go out only inside the 24-hour window; outside it a text is refused
    (409) unless ``fallback_to_template`` asks the planner for the approved re-engagement
    template. A template the person picked is sent whatever the window, if Meta approved it.
    """
    conversation, lead = await _thread(session, body.conversation_id)
    if isinstance(body, TemplateSend):
        return await _send_template(
            session, conversation, lead, user_id, body, idempotency_key, correlation_id
        )
    try:
        if isinstance(body, TextSend):
            part = _part(
                build_text(
                    _NO_RECIPIENT, body.text, callback_data="x", preview_url=body.preview_url
                )
            )
            message_type, preview = MessageType.TEXT, body.text
        elif isinstance(body, ButtonsSend):
            part = _part(
                build_buttons(
                    _NO_RECIPIENT,
                    body.text,
                    [ReplyButton(id=b.id, title=b.title) for b in body.buttons],
                    callback_data="x",
                    footer=body.footer,
                )
            )
            message_type, preview = MessageType.INTERACTIVE, body.text
        else:
            part = _part(
                build_list(
                    _NO_RECIPIENT,
                    body.text,
                    body.button,
                    [
                        ListSection(
                            title=s.title,
                            rows=[
                                ListRow(id=r.id, title=r.title, description=r.description)
                                for r in s.rows
                            ],
                        )
                        for s in body.sections
                    ],
                    callback_data="x",
                )
            )
            message_type, preview = MessageType.INTERACTIVE, body.text
    except GraphValidationError as exc:
        raise ValidationFailed(str(exc)) from exc
    fallback = (
        TemplatePurpose.REENGAGEMENT
        if isinstance(body, TextSend) and body.fallback_to_template
        else None
    )
    sent = await send_human_message(
        session,
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        # None for an API key: the message row's author_user_id is nullable for that case.
        user_id=user_id,  # type: ignore[arg-type]
        message=part,
        preview=preview,
        idempotency_key=idempotency_key,
        message_type=message_type,
        fallback_purpose=fallback,
        correlation_id=correlation_id,
    )
    return await _accepted(session, sent, idempotency_key)


def _template_parameters(
    template: Template, values: list[str] | dict[str, str]
) -> tuple[list[dict[str, Any]], str]:
    """Graph components for the header/body placeholders, and the body as the lead reads it.
    Every placeholder needs a value and no value may be left over: Meta rejects both."""
    named = template.parameter_format is TemplateParameterFormat.NAMED
    if named != isinstance(values, dict):
        raise ValidationFailed(
            "this template takes " + ("named parameters (an object)" if named else "a list")
        )
    components: list[dict[str, Any]] = []
    used: set[str] = set()
    position = 0
    preview = f"[template {template.name}]"
    for component in template.components or []:
        ctype = str(component.get("type", "")).upper()
        if ctype not in ("HEADER", "BODY"):
            continue
        text = component.get("text") if isinstance(component.get("text"), str) else ""
        placeholders = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
        filled: dict[str, str] = {}
        parameters: list[dict[str, Any]] = []
        for placeholder in placeholders:
            if isinstance(values, dict):
                value = values.get(placeholder)
                used.add(placeholder)
            else:
                value = values[position] if position < len(values) else None
                position += 1
            if value is None:
                raise ValidationFailed(f"no value for {{{{{placeholder}}}}}")
            clean = " ".join(value.split())
            filled[placeholder] = clean
            parameters.append(
                {
                    "type": "text",
                    "text": clean,
                    **({"parameter_name": placeholder} if named else {}),
                }
            )
        if parameters:
            components.append({"type": ctype.lower(), "parameters": parameters})
        if ctype == "BODY":
            preview = _PLACEHOLDER.sub(
                lambda m, values=filled: values.get(m.group(1), m.group(0)), text
            )[:200]
    extra = (set(values) - used) if isinstance(values, dict) else (len(values) > position)
    if extra:
        raise ValidationFailed("more parameters than the template has placeholders")
    return components, preview


async def _send_template(
    session: AsyncSession,
    conversation: Conversation,
    lead: Lead,
    user_id: uuid.UUID | None,
    body: TemplateSend,
    idempotency_key: str,
    correlation_id: str | None,
) -> SendAccepted:
    template = (
        await session.execute(
            sa.select(Template).where(
                Template.organisation_id == conversation.organisation_id,
                Template.id == body.template_id,
            )
        )
    ).scalar_one_or_none()
    if template is None:
        raise NotFound("template not found")
    if template.status is not TemplateStatus.APPROVED:
        raise Conflict(f"the template is {template.status.value}; only approved ones can be sent")
    components, preview = _template_parameters(template, body.parameters)
    part = _part(
        build_template(
            _NO_RECIPIENT,
            template.name,
            template.language,
            [TemplateComponent(type=c["type"], parameters=c["parameters"]) for c in components],
            callback_data="x",
        )
    )
    # WhatsApp accepts an approved template whatever the window, so the planner is asked about
    # this message as one that may be sent now; it still refuses an opted-out lead.
    locked = (
        await session.execute(
            sa.select(Conversation).where(Conversation.id == conversation.id).with_for_update()
        )
    ).scalar_one()
    plan = plan_send(
        purpose=None,
        window_open=True,
        opted_out=lead.opted_out,
        message=part,
        preview=preview,
        message_type=MessageType.TEMPLATE,
    )
    if plan.sendable:
        plan = dataclasses.replace(plan, verdict=SendVerdict.TEMPLATE, kind=OutboxKind.TEMPLATE)
    now = dt.datetime.now(dt.UTC)
    queued = await queue_plan(
        session,
        conversation=locked,
        lead=lead,
        plan=plan,
        author=MessageAuthor.HUMAN,
        idempotency_key=idempotency_key,
        now=now,
        correlation_id=correlation_id,
        author_user_id=user_id,
    )
    if queued is not None:
        minutes = (
            await session.execute(
                sa.select(Organisation.auto_release_minutes).where(
                    Organisation.id == conversation.organisation_id
                )
            )
        ).scalar_one()
        note_human_activity(locked, now=now, minutes=minutes)
    outbox_id = queued.outbox_id if queued else None
    return await _accepted(session, HumanSend(plan=plan, outbox_id=outbox_id), idempotency_key)


async def send_media(
    session: AsyncSession,
    *,
    box: SecretBox,
    graph_factory: GraphFactory,
    user_id: uuid.UUID | None,
    conversation_id: uuid.UUID,
    content: bytes,
    mime_type: str,
    filename: str,
    caption: str | None,
    idempotency_key: str,
    correlation_id: str | None,
) -> SendAccepted:
    """Upload a file to WhatsApp for the conversation's channel and queue it as a message.

    The upload happens here, in the request, because it needs the bytes and returns the media
    id the queued message refers to (the outbox then sends a small JSON body, retried freely).
    The planner is asked first, so nothing is uploaded for a send that would be refused. A
    copy is kept in ``media_objects`` for the timeline (and removed by a GDPR erase).
    """
    if mime_type not in MEDIA_TYPES:
        raise ValidationFailed(
            f"{mime_type!r} is not accepted", details={"accepted": sorted(MEDIA_TYPES)}
        )
    kind, limit = MEDIA_TYPES[mime_type]
    if not content:
        raise ValidationFailed("the file is empty")
    if len(content) > limit:
        raise ValidationFailed(f"{kind} files are limited to {limit // (1024 * 1024)} MB")
    magic = _MAGIC.get(mime_type)
    if magic is not None and not content.startswith(magic):
        raise ValidationFailed(f"the file is not {mime_type}")
    if caption is not None and len(caption) > 1024:
        raise ValidationFailed("a caption is at most 1024 characters")
    conversation, lead = await _thread(session, conversation_id)
    dry = plan_send(
        purpose=None,
        window_open=window_open(conversation, dt.datetime.now(dt.UTC)),
        opted_out=lead.opted_out,
        message={"type": kind},
    )
    if not dry.sendable:
        raise _refused(dry)
    channel = (
        await session.execute(
            sa.select(WhatsAppChannel).where(
                WhatsAppChannel.organisation_id == conversation.organisation_id,
                WhatsAppChannel.id == conversation.channel_id,
            )
        )
    ).scalar_one()
    graph: GraphClient = graph_factory(
        SecretStr(box.decrypt(channel.access_token_encrypted)),
        channel.phone_number_id,
        channel.waba_id,
        channel.graph_version,
    )
    try:
        media_id = await graph.upload_media(content, mime_type, filename)
    except GraphError as exc:
        raise UpstreamFailed("WhatsApp did not accept the upload") from exc
    media = MediaObject(
        organisation_id=conversation.organisation_id,
        whatsapp_media_id=media_id,
        mime_type=mime_type,
        size_bytes=len(content),
        filename=filename[:255],
        content=content,
    )
    session.add(media)
    await session.flush()
    part = _part(
        build_media(
            _NO_RECIPIENT,
            kind,  # type: ignore[arg-type]
            MediaRef(id=media_id),
            callback_data="x",
            caption=caption,
            filename=filename if kind == "document" else None,
        )
    )
    sent = await send_human_message(
        session,
        organisation_id=conversation.organisation_id,
        conversation_id=conversation.id,
        # None for an API key: the message row's author_user_id is nullable for that case.
        user_id=user_id,  # type: ignore[arg-type]
        message=part,
        preview=caption or f"[{kind}]",
        idempotency_key=idempotency_key,
        message_type=MessageType(kind),
        fallback_purpose=None,
        correlation_id=correlation_id,
    )
    accepted = await _accepted(session, sent, idempotency_key)
    await session.execute(
        sa.update(Message)
        .where(
            Message.organisation_id == conversation.organisation_id,
            Message.id == accepted.message.id,
        )
        .values(media_id=media.id)
    )
    accepted.message.media_id = media.id
    return accepted


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> MessageWithHistory:
    organisation_id = current_organisation_id(session)
    message = (
        await session.execute(
            sa.select(Message).where(
                Message.organisation_id == organisation_id, Message.id == message_id
            )
        )
    ).scalar_one_or_none()
    if message is None:
        raise NotFound("message not found")
    history: list[StatusEventRead] = []
    if message.wamid:
        events = (
            await session.execute(
                sa.select(MessageStatusEvent)
                .where(
                    MessageStatusEvent.organisation_id == organisation_id,
                    MessageStatusEvent.wamid == message.wamid,
                )
                .order_by(MessageStatusEvent.occurred_at, MessageStatusEvent.created_at)
            )
        ).scalars()
        history = [StatusEventRead.model_validate(e) for e in events]
    return MessageWithHistory(message=MessageRead.model_validate(message), status_history=history)


@dataclasses.dataclass(frozen=True)
class StoredMedia:
    content: bytes
    mime_type: str
    filename: str | None


async def get_message_media(session: AsyncSession, message_id: uuid.UUID) -> StoredMedia:
    """The bytes of a message's media, from our own copy. ``NotFound`` when the message has no
    media, or its copy was not kept (too large, or not downloaded from Meta yet)."""
    organisation_id = current_organisation_id(session)
    row = (
        await session.execute(
            sa.select(MediaObject.content, MediaObject.mime_type, MediaObject.filename)
            .join(
                Message,
                sa.and_(
                    Message.organisation_id == MediaObject.organisation_id,
                    Message.media_id == MediaObject.id,
                ),
            )
            .where(Message.organisation_id == organisation_id, Message.id == message_id)
        )
    ).one_or_none()
    if row is None or row.content is None:
        raise NotFound("no stored media for this message")
    return StoredMedia(content=row.content, mime_type=row.mime_type, filename=row.filename)
