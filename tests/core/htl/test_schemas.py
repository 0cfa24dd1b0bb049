"""The stage contracts salvage near misses and still refuse real errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from funnel.core.htl import enums
from funnel.core.htl.enums import Action, ConversationStage, IntentLevel, MessageKind, Sentiment
from funnel.core.htl.schemas import (
    PLAN_MAX,
    SUMMARY_MAX,
    BrainOutput,
    EyesOutput,
    LeadFacts,
    MemoryOutput,
    MouthOutput,
    OrgProfile,
    Retrieval,
    RetrievedChunk,
)
from funnel.core.htl.text import guess_language
from tests.core.htl.factories import NOW, turn


def test_an_over_long_plan_is_clipped_not_fatal() -> None:
    # The original dropped the customer's reply when the plan was one character too long.
    brain = BrainOutput.model_validate(
        {"action": "respond", "new_stage": "pricing", "plan": "word " * 400}
    )
    assert len(brain.plan) <= PLAN_MAX
    assert brain.plan.endswith("…")


def test_enum_spellings_are_normalised() -> None:
    brain = BrainOutput.model_validate(
        {"action": "Send-Now", "new_stage": "Qualifying", "confidence": "85%"}
    )
    assert brain.action is Action.RESPOND
    assert brain.new_stage is ConversationStage.QUALIFICATION
    assert brain.confidence == pytest.approx(0.85)


def test_an_action_outside_the_closed_set_still_fails() -> None:
    with pytest.raises(ValidationError):
        BrainOutput.model_validate({"action": "give_discount", "new_stage": "pricing"})


def test_descriptive_enums_fall_back_instead_of_failing() -> None:
    eyes = EyesOutput.model_validate(
        {"intent": "shopping", "intent_level": "Very High", "sentiment": "happy", "language": "x"}
    )
    assert eyes.intent.value == "other"
    assert eyes.intent_level is IntentLevel.VERY_HIGH
    assert eyes.sentiment is Sentiment.POSITIVE
    assert eyes.language == "und"


@pytest.mark.parametrize(
    ("raw", "tag"), [("hi_deva", "hi-Deva"), ("EN", "en"), ("hi-latn", "hi-Latn")]
)
def test_language_tags_are_canonicalised(raw: str, tag: str) -> None:
    assert (
        EyesOutput.model_validate(
            {"intent": "greeting", "intent_level": "low", "sentiment": "neutral", "language": raw}
        ).language
        == tag
    )


def test_nulls_and_blanks_are_not_given() -> None:
    brain = BrainOutput.model_validate(
        {
            "action": "wait",
            "new_stage": "pricing",
            "cta_id": "",
            "followup_delay_minutes": None,
            "template_purpose": "none",
        }
    )
    assert brain.cta_id is None
    assert brain.followup_delay_minutes is None
    assert brain.template_purpose is None


def test_a_fractional_delay_is_rounded() -> None:
    brain = BrainOutput.model_validate(
        {"action": "wait", "new_stage": "pricing", "followup_delay_minutes": 29.6}
    )
    assert brain.followup_delay_minutes == 30


def test_a_negative_delay_fails() -> None:
    with pytest.raises(ValidationError):
        BrainOutput.model_validate(
            {"action": "wait", "new_stage": "pricing", "followup_delay_minutes": -5}
        )


def test_confidence_is_clamped() -> None:
    assert BrainOutput.model_validate(
        {"action": "ignore", "new_stage": "cta", "confidence": 7}
    ).confidence == pytest.approx(0.07)
    assert (
        BrainOutput.model_validate(
            {"action": "ignore", "new_stage": "cta", "confidence": -1}
        ).confidence
        == 0.0
    )


def test_interactive_without_its_parts_degrades_to_text() -> None:
    mouth = MouthOutput.model_validate({"kind": "buttons", "text": "Shall we book?", "buttons": []})
    assert mouth.kind is MessageKind.TEXT
    assert mouth.text == "Shall we book?"


def test_too_many_buttons_and_long_titles_are_salvaged() -> None:
    mouth = MouthOutput.model_validate(
        {
            "kind": "reply_buttons",
            "text": "Pick",
            "buttons": [{"id": str(i), "title": f"A rather long title {i}"} for i in range(5)],
        }
    )
    assert len(mouth.buttons) == 3
    assert all(len(b.title) <= 20 for b in mouth.buttons)


def test_unknown_fields_from_the_model_are_ignored() -> None:
    eyes = EyesOutput.model_validate(
        {"intent": "greeting", "intent_level": "low", "sentiment": "neutral", "new_stage": "cta"}
    )
    assert not hasattr(eyes, "new_stage")


def test_an_empty_summary_is_a_failed_output() -> None:
    with pytest.raises(ValidationError):
        MemoryOutput.model_validate({"rolling_summary": "   "})


def test_the_summary_is_bounded() -> None:
    memory = MemoryOutput.model_validate({"rolling_summary": "fact. " * 1000})
    assert len(memory.rolling_summary) <= SUMMARY_MAX


def test_lead_facts_merge_keeps_what_the_newer_summary_forgot() -> None:
    old = LeadFacts(name="Asha", email="asha@example.com", needs=["2 kW"])
    new = LeadFacts(name="Asha Verma", company="Verma Traders", needs=["2 kW", "net metering"])
    merged = old.merged(new)
    assert merged == LeadFacts(
        name="Asha Verma",
        email="asha@example.com",
        company="Verma Traders",
        needs=["2 kW", "net metering"],
    )


def test_an_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError):
        OrgProfile(business_name="X", timezone="Mars/Olympus")


def test_local_now_is_in_the_organisations_timezone() -> None:
    ctx = turn("hi")
    assert ctx.now == NOW
    local = ctx.local_now
    assert local.utcoffset() is not None
    assert (local.hour, local.minute) == (15, 0)  # 09:30 UTC is 15:00 in Kolkata


def test_retrieval_below_the_threshold_is_no_grounding() -> None:
    weak = RetrievedChunk(chunk_id="c", text="t", score=0.2)
    strong = RetrievedChunk(chunk_id="d", text="u", score=0.8)
    assert not Retrieval.from_chunks("q", [weak], threshold=0.3).grounded
    assert Retrieval.from_chunks("q", [weak], threshold=0.3).usable_chunks == []
    grounded = Retrieval.from_chunks("q", [weak, strong], threshold=0.3)
    assert grounded.grounded
    assert [c.chunk_id for c in grounded.chunks] == ["d", "c"]
    assert [c.chunk_id for c in grounded.usable_chunks] == ["d"]


def test_the_enums_match_the_database_models() -> None:
    pytest.importorskip("sqlalchemy")
    from funnel.core.models import enums as db

    for ours, theirs in [
        (enums.ConversationStage, db.ConversationStage),
        (enums.ConversationMode, db.ConversationMode),
        (enums.IntentLevel, db.IntentLevel),
        (enums.Sentiment, db.Sentiment),
        (enums.MessageAuthor, db.MessageAuthor),
        (enums.CtaType, db.CtaType),
        (enums.CtaState, db.CtaState),
        (enums.TemplatePurpose, db.TemplatePurpose),
    ]:
        assert [m.value for m in ours] == [m.value for m in theirs], ours.__name__


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("hello, price please", "en", "en"),
        ("hello, price please", "hi", "en"),
        ("hola, cuánto cuesta", "es", "es"),
        ("bhai price kitna hai", "en", "hi-Latn"),
        ("कीमत कितनी है", "en", "hi-Deva"),
        ("كم السعر", "en", "ar-Arab"),
        ("👍", "es", "es"),
    ],
)
def test_language_guess(text: str, default: str, expected: str) -> None:
    assert guess_language(text, default) == expected
