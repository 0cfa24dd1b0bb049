"""Tolerant models of the Cloud API webhook, and its split into one event per item.

A POST can carry several ``entry`` x ``changes`` x ``messages``/``statuses``; every level is
walked. The models accept and ignore fields they do not know (Meta adds fields without notice)
and keep only what the platform reads; the item's JSON as received travels next to the model in
:attr:`WebhookEvent.raw`, so nothing Meta sent is lost to a model that is too narrow.

Contacts are joined to their message by identity (``wa_id == from`` or
``user_id == from_user_id``), never by position: Meta does not promise the two arrays are in the
same order, and in batches they are not.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

OBJECT_WHATSAPP = "whatsapp_business_account"
FIELD_MESSAGES = "messages"


class WebhookParseError(ValueError):
    """The body is not JSON, or not shaped like a Cloud API webhook at all."""


def _unix_seconds(value: Any) -> Any:
    """Meta sends Unix seconds as strings (``"1764238453"``); make them aware UTC datetimes."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return value


Timestamp = Annotated[datetime, BeforeValidator(_unix_seconds)]


def _stringify(value: Any) -> Any:
    """Ids are opaque strings; Meta sends a few of them as JSON numbers."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_stringify)]


class _Model(BaseModel):
    # Unknown fields are ignored, never an error: Meta adds fields to live payloads.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Profile(_Model):
    name: str | None = None
    username: str | None = None


class Contact(_Model):
    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    country_code: str | None = None
    profile: Profile | None = None

    @property
    def name(self) -> str | None:
        return self.profile.name if self.profile else None


class Metadata(_Model):
    display_phone_number: str | None = None
    phone_number_id: Id


class ErrorData(_Model):
    details: str | None = None


class WhatsAppError(_Model):
    code: int
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None


class Context(_Model):
    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None
    referred_product: dict[str, Any] | None = None


class Text(_Model):
    body: str = ""


class Media(_Model):
    """``image``, ``video``, ``audio``, ``document`` and ``sticker`` share this shape."""

    id: Id
    mime_type: str | None = None
    #: Base64 in webhooks, hex in the GET-media response: decode before comparing.
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class Reply(_Model):
    id: str
    title: str | None = None
    description: str | None = None


class Interactive(_Model):
    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None
    nfm_reply: dict[str, Any] | None = None

    @property
    def reply(self) -> Reply | None:
        return self.button_reply or self.list_reply


class Button(_Model):
    payload: str | None = None
    text: str | None = None


class Location(_Model):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class Reaction(_Model):
    message_id: str
    #: Empty or absent when the user removed their reaction.
    emoji: str | None = None

    @property
    def removed(self) -> bool:
        return not self.emoji


class System(_Model):
    """Identifier changes (``user_changed_number``, ``user_changed_user_id``) and the like."""

    type: str | None = None
    body: str | None = None
    wa_id: str | None = None
    new_wa_id: str | None = None
    customer: str | None = None
    user_id: str | None = None
    new_user_id: str | None = None


class Message(_Model):
    #: The sender's wa_id. Absent for a username user with no recent contact (BSUID only).
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    from_logical_id: str | None = None
    id: str
    timestamp: Timestamp
    #: Kept as a string so a type Meta invents tomorrow still parses.
    type: str
    context: Context | None = None
    referral: dict[str, Any] | None = None
    errors: list[WhatsAppError] = Field(default_factory=list)
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    location: Location | None = None
    reaction: Reaction | None = None
    system: System | None = None
    contacts: list[dict[str, Any]] | None = None
    order: dict[str, Any] | None = None

    @property
    def media(self) -> Media | None:
        return self.image or self.video or self.audio or self.document or self.sticker


class PricingInfo(_Model):
    pricing_model: str | None = None
    category: str | None = None
    type: str | None = None
    billable: bool | None = None


class ConversationInfo(_Model):
    id: str | None = None
    expiration_timestamp: Timestamp | None = None
    origin: dict[str, Any] | None = None


class Status(_Model):
    id: str
    status: str
    timestamp: Timestamp
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    recipient_parent_user_id: str | None = None
    recipient_type: str | None = None
    biz_opaque_callback_data: str | None = None
    conversation: ConversationInfo | None = None
    pricing: PricingInfo | None = None
    errors: list[WhatsAppError] = Field(default_factory=list)


class TemplateStatusUpdate(_Model):
    """``field = "message_template_status_update"``."""

    event: str
    message_template_id: Id | None = None
    message_template_name: str | None = None
    message_template_language: str | None = None
    reason: str | None = None


class EventKind(enum.StrEnum):
    MESSAGE = "message"
    STATUS = "status"
    #: Anything that is not a message or a status: template and account updates, and the rest.
    CHANGE = "change"
    #: Not from Meta: a due scheduled action (follow-up, auto-release, template fallback) put
    #: on the conversation's key by the scheduler, so it is ordered with the customer's messages.
    SCHEDULED = "scheduled"


@dataclass(frozen=True, slots=True)
class ContactRef:
    """Who an event is about. Either id can identify the user; ``wa_id`` is preferred."""

    wa_id: str | None = None
    user_id: str | None = None
    name: str | None = None

    @property
    def identity(self) -> str | None:
        return self.wa_id or self.user_id


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One inbound message, one status, or one other change, out of a webhook POST."""

    kind: EventKind
    field: str
    waba_id: str
    phone_number_id: str | None
    display_phone_number: str | None
    contact: ContactRef | None
    #: WhatsApp's own time for the item (``entry.time`` for changes that carry one).
    timestamp: datetime | None
    #: The message object, status object, or change ``value`` exactly as decoded from the body.
    raw: Mapping[str, Any]
    #: The ``contacts[]`` element joined to this item, as received.
    raw_contact: Mapping[str, Any] | None = None
    #: ``value`` minus its item arrays (``messaging_product``, ``metadata``…), to rebuild a body.
    value_base: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    entry_time: Any = None
    message: Message | None = None
    status: Status | None = None

    @property
    def wamid(self) -> str | None:
        if self.message is not None:
            return self.message.id
        if self.status is not None:
            return self.status.id
        return None

    @property
    def event_id(self) -> str:
        """A stable id for deduplication: wamid, (wamid, status), or a digest of the change."""
        if self.message is not None:
            return self.message.id
        if self.status is not None:
            return f"{self.status.id}:{self.status.status}"
        digest = hashlib.sha256(
            json.dumps(self.raw, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()[:32]
        return f"{self.field}:{self.waba_id}:{digest}"

    def envelope(self) -> dict[str, Any]:
        """A webhook body holding this event alone, in Meta's shape."""
        return build_envelope([self])


def conversation_key(organisation_id: str, phone_number_id: str, contact: ContactRef) -> str:
    """The Kafka key that keeps one conversation's events in order on one partition."""
    identity = contact.identity
    if not identity:
        raise ValueError("a conversation key needs a wa_id or a user id")
    return f"{organisation_id}:{phone_number_id}:{identity}"


def event_key(organisation_id: str, event: WebhookEvent) -> str:
    """The Kafka key for any event. Changes with no contact order per WABA and field."""
    if event.contact is not None and event.contact.identity and event.phone_number_id:
        return conversation_key(organisation_id, event.phone_number_id, event.contact)
    return f"{organisation_id}:{event.phone_number_id or event.waba_id}:{event.field}"


def load_payload(payload: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(payload, Mapping):
        return dict(payload)
    try:
        decoded = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookParseError(f"body is not JSON: {exc}") from exc
    if not isinstance(decoded, dict):
        raise WebhookParseError("body is not a JSON object")
    return decoded


def _list_of_dicts(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise WebhookParseError(f"{where} is not a list of objects")
    return value


def _match_contact(
    contacts: Sequence[dict[str, Any]], wa_id: str | None, user_id: str | None
) -> dict[str, Any] | None:
    for contact in contacts:
        if wa_id and contact.get("wa_id") == wa_id:
            return contact
    for contact in contacts:
        if user_id and contact.get("user_id") == user_id:
            return contact
    return None


def _contact_ref(
    raw_contact: Mapping[str, Any] | None, wa_id: str | None, user_id: str | None
) -> ContactRef | None:
    contact = Contact.model_validate(raw_contact) if raw_contact is not None else None
    wa_id = wa_id or (contact.wa_id if contact else None)
    user_id = user_id or (contact.user_id if contact else None)
    if not wa_id and not user_id:
        return None
    return ContactRef(wa_id=wa_id, user_id=user_id, name=contact.name if contact else None)


def split_events(payload: bytes | str | Mapping[str, Any]) -> list[WebhookEvent]:
    """Every message, status and other change in a webhook body, in body order.

    Raises :class:`WebhookParseError` when the body is not JSON, not an envelope, or an item
    lacks what the platform cannot do without (a message or status id, its timestamp).
    """
    body = load_payload(payload)
    events: list[WebhookEvent] = []
    for e_index, entry in enumerate(_list_of_dicts(body.get("entry"), "entry")):
        waba_id = str(entry.get("id", ""))
        entry_time = entry.get("time")
        for c_index, change in enumerate(
            _list_of_dicts(entry.get("changes"), f"entry[{e_index}].changes")
        ):
            where = f"entry[{e_index}].changes[{c_index}]"
            try:
                events.extend(_split_change(change, waba_id, entry_time))
            except ValidationError as exc:
                raise WebhookParseError(f"{where}: {exc}") from exc
    return events


def _split_change(change: dict[str, Any], waba_id: str, entry_time: Any) -> Iterable[WebhookEvent]:
    field_name = str(change.get("field", ""))
    value = change.get("value")
    if not isinstance(value, dict):
        value = {}
    metadata = (
        Metadata.model_validate(value["metadata"])
        if isinstance(value.get("metadata"), dict)
        else None
    )
    common: dict[str, Any] = {
        "field": field_name,
        "waba_id": waba_id,
        "phone_number_id": metadata.phone_number_id if metadata else None,
        "display_phone_number": metadata.display_phone_number if metadata else None,
        "entry_time": entry_time,
    }
    messages = value.get("messages")
    statuses = value.get("statuses")
    if field_name != FIELD_MESSAGES or (messages is None and statuses is None):
        timestamp = _unix_seconds(entry_time) if entry_time is not None else None
        yield WebhookEvent(
            kind=EventKind.CHANGE,
            contact=None,
            timestamp=timestamp if isinstance(timestamp, datetime) else None,
            raw=value,
            **common,
        )
        return
    base = {k: v for k, v in value.items() if k not in ("contacts", "messages", "statuses")}
    contacts = _list_of_dicts(value.get("contacts"), "contacts")
    for raw in _list_of_dicts(messages, "messages"):
        message = Message.model_validate(raw)
        raw_contact = _match_contact(contacts, message.from_, message.from_user_id)
        yield WebhookEvent(
            kind=EventKind.MESSAGE,
            contact=_contact_ref(raw_contact, message.from_, message.from_user_id),
            timestamp=message.timestamp,
            raw=raw,
            raw_contact=raw_contact,
            value_base=base,
            message=message,
            **common,
        )
    for raw in _list_of_dicts(statuses, "statuses"):
        status = Status.model_validate(raw)
        raw_contact = _match_contact(contacts, status.recipient_id, status.recipient_user_id)
        yield WebhookEvent(
            kind=EventKind.STATUS,
            contact=_contact_ref(raw_contact, status.recipient_id, status.recipient_user_id),
            timestamp=status.timestamp,
            raw=raw,
            raw_contact=raw_contact,
            value_base=base,
            status=status,
            **common,
        )


def build_envelope(events: Sequence[WebhookEvent]) -> dict[str, Any]:
    """A webhook body in Meta's shape holding ``events``, grouped by WABA and field.

    Used to split a body too big for one queue message: each part is itself a valid webhook that
    :func:`split_events` reads back into the same events (contacts re-attached to their items).
    """
    entries: dict[tuple[str, Any], dict[str, Any]] = {}
    values: dict[tuple[str, Any, str, str], dict[str, Any]] = {}
    for event in events:
        entry = entries.get((event.waba_id, event.entry_time))
        if entry is None:
            entry = {"id": event.waba_id, "changes": []}
            if event.entry_time is not None:
                entry["time"] = event.entry_time
            entries[(event.waba_id, event.entry_time)] = entry
        if event.kind is EventKind.CHANGE:
            entry["changes"].append({"field": event.field, "value": dict(event.raw)})
            continue
        base_key = json.dumps(event.value_base, sort_keys=True)
        value_key = (event.waba_id, event.entry_time, event.field, base_key)
        value = values.get(value_key)
        if value is None:
            value = dict(event.value_base)
            values[value_key] = value
            entry["changes"].append({"field": event.field, "value": value})
        if event.raw_contact is not None:
            contacts = value.setdefault("contacts", [])
            if event.raw_contact not in contacts:
                contacts.append(dict(event.raw_contact))
        items = "messages" if event.kind is EventKind.MESSAGE else "statuses"
        value.setdefault(items, []).append(dict(event.raw))
    return {"object": OBJECT_WHATSAPP, "entry": list(entries.values())}


@dataclass(slots=True)
class WebhookSummary:
    """What the receiver needs from a body without building a model per item."""

    phone_number_ids: list[str] = dataclasses.field(default_factory=list)
    messages: int = 0
    statuses: int = 0
    changes: int = 0
    #: ``field`` values other than ``messages``, and message types outside the documented set.
    unrecognised: list[str] = dataclasses.field(default_factory=list)

    @property
    def events(self) -> int:
        return self.messages + self.statuses + self.changes


#: The message types the protocol document lists; others are logged and still accepted.
KNOWN_MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "interactive",
        "button",
        "location",
        "reaction",
        "contacts",
        "order",
        "system",
        "unsupported",
        "request_welcome",
    }
)
#: Non-message fields the platform knows about (it acts on some, logs the rest).
KNOWN_FIELDS = frozenset(
    {
        FIELD_MESSAGES,
        "message_template_status_update",
        "template_category_update",
        "message_template_quality_update",
        "account_update",
        "phone_number_quality_update",
        "business_capability_update",
        "user_preferences",
    }
)


def summarize(body: Mapping[str, Any]) -> WebhookSummary:
    """Count events and collect routing ids with plain dict walking (the receiver's hot path).

    Shapes that :func:`split_events` would reject are counted as best they can be: the receiver
    only needs routing ids, and judging the items is the bridge's job.
    """
    summary = WebhookSummary()
    entries = body.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            if not isinstance(change, dict):
                continue
            field_name = change.get("field")
            value = change.get("value")
            value = value if isinstance(value, dict) else {}
            metadata = value.get("metadata")
            if isinstance(metadata, dict) and metadata.get("phone_number_id") is not None:
                pnid = str(metadata["phone_number_id"])
                if pnid not in summary.phone_number_ids:
                    summary.phone_number_ids.append(pnid)
            if field_name not in KNOWN_FIELDS:
                summary.unrecognised.append(f"field:{field_name}")
            messages = value.get("messages")
            statuses = value.get("statuses")
            if field_name != FIELD_MESSAGES or (messages is None and statuses is None):
                summary.changes += 1
                continue
            for message in messages if isinstance(messages, list) else ():
                summary.messages += 1
                kind = message.get("type") if isinstance(message, dict) else None
                if kind not in KNOWN_MESSAGE_TYPES:
                    summary.unrecognised.append(f"type:{kind}")
            if isinstance(statuses, list):
                summary.statuses += len(statuses)
    return summary


__all__ = [
    "KNOWN_FIELDS",
    "KNOWN_MESSAGE_TYPES",
    "OBJECT_WHATSAPP",
    "Contact",
    "ContactRef",
    "EventKind",
    "Message",
    "Status",
    "TemplateStatusUpdate",
    "WebhookEvent",
    "WebhookParseError",
    "WebhookSummary",
    "build_envelope",
    "conversation_key",
    "event_key",
    "load_payload",
    "split_events",
    "summarize",
]
