from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from funnel.core.whatsapp.webhook import (
    ContactRef,
    EventKind,
    TemplateStatusUpdate,
    WebhookEvent,
    WebhookParseError,
    build_envelope,
    conversation_key,
    event_key,
    split_events,
    summarize,
)
from tests.fixtures.whatsapp.corpus import fixture_names, load_fixture

PNID = "106540352242922"
WABA = "102290129340398"
PARSEABLE = fixture_names(signed_only=True)


def _observed(event: WebhookEvent, wanted: dict[str, Any]) -> dict[str, Any]:
    """The facts of ``event`` under the names the manifest uses, limited to what it states."""
    message, status = event.message, event.status
    facts: dict[str, Any] = {"kind": event.kind.value, "field": event.field}
    if event.contact is not None:
        facts.update(
            wa_id=event.contact.wa_id,
            user_id=event.contact.user_id,
            contact_name=event.contact.name,
        )
    else:
        facts.update(wa_id=None, user_id=None, contact_name=None)
    if message is not None:
        facts.update(wamid=message.id, type=message.type)
        facts["text"] = message.text.body if message.text else None
        facts["media_id"] = message.media.id if message.media else None
        facts["caption"] = message.media.caption if message.media else None
        facts["filename"] = message.document.filename if message.document else None
        facts["voice"] = message.audio.voice if message.audio else None
        reply = message.interactive.reply if message.interactive else None
        facts["reply_id"] = reply.id if reply else None
        facts["context_id"] = message.context.id if message.context else None
        facts["button_payload"] = message.button.payload if message.button else None
        if message.location:
            facts.update(
                latitude=message.location.latitude,
                longitude=message.location.longitude,
                location_name=message.location.name,
            )
        if message.reaction:
            facts.update(
                reaction_to=message.reaction.message_id,
                emoji=message.reaction.emoji,
                reaction_removed=message.reaction.removed,
            )
        facts["system_type"] = message.system.type if message.system else None
        facts["error_codes"] = [e.code for e in message.errors]
    if status is not None:
        facts.update(wamid=status.id, status=status.status)
        facts["error_codes"] = [e.code for e in status.errors]
        facts["pricing_category"] = status.pricing.category if status.pricing else None
    if event.field == "message_template_status_update":
        facts["template_event"] = TemplateStatusUpdate.model_validate(event.raw).event
    return {key: facts.get(key, "<absent>") for key in wanted}


@pytest.mark.parametrize("name", PARSEABLE)
def test_every_fixture_splits_into_the_expected_events(name: str) -> None:
    fixture = load_fixture(name)
    events = split_events(fixture.raw)
    assert len(events) == len(fixture.events)
    for event, wanted in zip(events, fixture.events, strict=True):
        assert _observed(event, wanted) == wanted
        assert event.waba_id == WABA
        if event.kind is not EventKind.CHANGE:
            assert event.phone_number_id == PNID
            assert event.timestamp is not None
            assert event.timestamp.tzinfo is not None


@pytest.mark.parametrize("name", PARSEABLE)
def test_each_event_survives_a_round_trip_through_its_own_envelope(name: str) -> None:
    for event in split_events(load_fixture(name).raw):
        again = split_events(json.dumps(event.envelope()).encode())
        assert len(again) == 1
        assert again[0].raw == event.raw
        assert again[0].contact == event.contact
        assert again[0].event_id == event.event_id


@pytest.mark.parametrize("name", PARSEABLE)
def test_all_events_rebuild_into_one_equivalent_body(name: str) -> None:
    events = split_events(load_fixture(name).raw)
    rebuilt = split_events(json.dumps(build_envelope(events), ensure_ascii=False))
    assert [(e.raw, e.contact, e.kind) for e in rebuilt] == [
        (e.raw, e.contact, e.kind) for e in events
    ]


def test_contacts_are_joined_by_wa_id_not_position() -> None:
    raw = load_fixture("11a_batch_two_contacts").raw
    body = json.loads(raw)
    value = body["entry"][0]["changes"][0]["value"]
    # The fixture's contacts run opposite to its messages: index joining would swap the names.
    assert value["contacts"][0]["wa_id"] != value["messages"][0]["from"]
    names = {e.message.from_: e.contact.name for e in split_events(raw) if e.message and e.contact}
    assert names == {"919812345678": "Asha Verma", "447700900123": "Bob Hughes"}


def test_devanagari_escaped_and_raw_utf8_decode_identically() -> None:
    escaped = load_fixture("02a_text_hi_devanagari").raw
    assert escaped.isascii()
    (event,) = split_events(escaped)
    assert event.message is not None
    assert event.message.text is not None
    raw_utf8 = json.dumps(json.loads(escaped), ensure_ascii=False).encode()
    assert not raw_utf8.isascii()
    (same,) = split_events(raw_utf8)
    assert same.message is not None
    assert same.message.text is not None
    assert event.message.text.body == same.message.text.body == "मेरा ऑर्डर कब आएगा?"
    assert event.contact == same.contact
    assert event.contact is not None
    assert event.contact.name == "प्रिया शर्मा"


def test_hinglish_is_stored_as_raw_utf8_bytes() -> None:
    assert b"\\u" not in load_fixture("02b_text_hinglish").raw


def test_emoji_only_is_a_text_message_not_a_reaction() -> None:
    (event,) = split_events(load_fixture("03_text_emoji_only").raw)
    assert event.message is not None
    assert event.message.type == "text"
    assert event.message.reaction is None
    assert event.message.text is not None
    assert "\u200d" in event.message.text.body


def test_status_without_contacts_still_knows_its_recipient() -> None:
    (event,) = split_events(load_fixture("10a_status_failed_131047_no_contacts").raw)
    assert event.kind is EventKind.STATUS
    assert event.raw_contact is None
    assert event.contact == ContactRef(wa_id="919812345678")
    assert event.status is not None
    assert event.status.pricing is None


def test_username_only_contact_has_no_wa_id() -> None:
    (event,) = split_events(load_fixture("username_only_contact").raw)
    assert event.message is not None
    assert event.message.from_ is None
    assert event.contact == ContactRef(wa_id=None, user_id="IN.5550001112223334", name="Kiran")
    assert conversation_key("org1", PNID, event.contact) == f"org1:{PNID}:IN.5550001112223334"


def test_timestamps_become_aware_utc_datetimes() -> None:
    (event,) = split_events(load_fixture("01_text_en").raw)
    assert event.timestamp == datetime(2025, 11, 27, 10, 14, 13, tzinfo=UTC)
    (sent,) = split_events(load_fixture("status_sent_pricing").raw)
    assert sent.status is not None
    assert sent.status.conversation is not None
    assert sent.status.conversation.expiration_timestamp == datetime.fromtimestamp(
        1764324853, tz=UTC
    )


def test_template_status_change_carries_entry_time() -> None:
    (event,) = split_events(load_fixture("template_status_rejected").raw)
    assert event.kind is EventKind.CHANGE
    assert event.timestamp == datetime.fromtimestamp(1764238453, tz=UTC)
    update = TemplateStatusUpdate.model_validate(event.raw)
    assert update.message_template_id == "12345678"
    assert update.reason == "INCORRECT_CATEGORY"


def test_keys_order_a_conversation_and_its_statuses_together() -> None:
    (message,) = split_events(load_fixture("01_text_en").raw)
    (status,) = split_events(load_fixture("10a_status_failed_131047_no_contacts").raw)
    assert event_key("org1", message) == event_key("org1", status) == f"org1:{PNID}:919812345678"
    (change,) = split_events(load_fixture("account_update").raw)
    assert event_key("org1", change) == f"org1:{WABA}:account_update"
    with pytest.raises(ValueError, match="wa_id"):
        conversation_key("org1", PNID, ContactRef())


def test_event_ids_deduplicate_redeliveries() -> None:
    first = split_events(load_fixture("01_text_en").raw)
    again = split_events(load_fixture("12b_duplicate_reserialized").raw)
    assert load_fixture("01_text_en").raw != load_fixture("12b_duplicate_reserialized").raw
    assert first[0].event_id == again[0].event_id
    read, delivered = split_events(load_fixture("status_read_before_delivered").raw)
    assert read.event_id != delivered.event_id


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"entry": {"id": 1}}', "entry"),
        (b"\xff\xfe", "not JSON"),
        (
            b'{"entry":[{"id":"1","changes":[{"field":"messages","value":'
            b'{"messages":[{"type":"text"}]}}]}]}',
            "changes",
        ),
    ],
)
def test_unusable_bodies_raise_a_parse_error(body: bytes, match: str) -> None:
    with pytest.raises(WebhookParseError, match=match):
        split_events(body)


def test_summary_counts_and_routes_without_models() -> None:
    summary = summarize(json.loads(load_fixture("11c_batch_mixed_with_statuses").raw))
    assert (summary.messages, summary.statuses, summary.changes) == (2, 1, 0)
    assert summary.phone_number_ids == [PNID]
    unknown = summarize(json.loads(load_fixture("unknown_fields_and_type").raw))
    assert unknown.unrecognised == load_fixture("unknown_fields_and_type").expected["unrecognised"]
    assert unknown.events == 2
