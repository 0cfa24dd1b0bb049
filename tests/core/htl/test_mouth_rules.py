"""Every check on Mouth's message, and the Graph request bodies it converts to."""

from __future__ import annotations

import pytest

from funnel.core.htl.enums import MessageAuthor, MessageKind
from funnel.core.htl.mouth_rules import check_reply, to_graph_body
from funnel.core.htl.schemas import (
    CtaUrl,
    ListRow,
    MouthOutput,
    ReplyButton,
    Retrieval,
)
from tests.core.htl.factories import KNOWLEDGE, msg, org, turn

GROUNDED = Retrieval.from_chunks(
    "price", [KNOWLEDGE[0].model_copy(update={"score": 0.9})], threshold=0.5
)
UNGROUNDED = Retrieval.from_chunks(
    "price", [KNOWLEDGE[0].model_copy(update={"score": 0.1})], threshold=0.5
)


def text(body: str, **changes: object) -> MouthOutput:
    return MouthOutput.model_validate({"kind": "text", "text": body, **changes})


def rules_broken(reply: MouthOutput, *customer: str, retrieval: Retrieval = GROUNDED) -> set[str]:
    ctx = turn(*(customer or ("hello",)))
    return {v.rule for v in check_reply(reply, ctx, retrieval=retrieval)}


def test_a_good_reply_passes() -> None:
    assert rules_broken(text("The Starter plan costs ₹49,999 for a 2 kW system.")) == set()


def test_empty_text_is_refused() -> None:
    assert "empty" in rules_broken(text("   "))


def test_the_organisations_word_limit() -> None:
    reply = text(" ".join(["word"] * 61))
    assert "word_limit" in rules_broken(reply)
    assert "word_limit" not in rules_broken(text(" ".join(["word"] * 60)))


def test_text_over_whatsapps_limit_is_refused() -> None:
    reply = MouthOutput.model_construct(
        kind=MessageKind.TEXT, text="a" * 4097, buttons=[], list_rows=[]
    )
    assert "length.text" in rules_broken(reply)


def test_interactive_body_limit() -> None:
    reply = MouthOutput(
        kind=MessageKind.REPLY_BUTTONS,
        text="a" * 1025,
        buttons=[ReplyButton(id="a", title="Yes")],
    )
    assert "length.body" in rules_broken(reply)


def test_reply_buttons_must_be_unique() -> None:
    reply = MouthOutput(
        kind=MessageKind.REPLY_BUTTONS,
        text="Pick one",
        buttons=[ReplyButton(id="a", title="Yes"), ReplyButton(id="b", title="yes ")],
    )
    assert "buttons.unique" in rules_broken(reply)
    same_ids = MouthOutput(
        kind=MessageKind.REPLY_BUTTONS,
        text="Pick one",
        buttons=[ReplyButton(id="a", title="Yes"), ReplyButton(id="a", title="No")],
    )
    assert "buttons.unique" in rules_broken(same_ids)


def test_button_title_and_id_limits() -> None:
    reply = MouthOutput.model_construct(
        kind=MessageKind.REPLY_BUTTONS,
        text="Pick",
        buttons=[ReplyButton.model_construct(id="x" * 257, title="y" * 21)],
        list_rows=[],
    )
    assert {"buttons.title", "buttons.id"} <= rules_broken(reply)


def test_too_many_buttons() -> None:
    buttons = [ReplyButton(id=str(i), title=f"Option {i}") for i in range(4)]
    reply = MouthOutput.model_construct(
        kind=MessageKind.REPLY_BUTTONS, text="Pick", buttons=buttons, list_rows=[]
    )
    assert "buttons.count" in rules_broken(reply)


def test_list_limits() -> None:
    rows = [ListRow(id=f"r{i}", title=f"Row {i}") for i in range(11)]
    reply = MouthOutput.model_construct(
        kind=MessageKind.LIST, text="Choose", list_button="Options", list_rows=rows, buttons=[]
    )
    assert "list.count" in rules_broken(reply)
    long = MouthOutput.model_construct(
        kind=MessageKind.LIST,
        text="Choose",
        list_button="A button label too long",
        list_rows=[ListRow.model_construct(id="a", title="t" * 25, description="d" * 73)],
        buttons=[],
    )
    assert {"list.button", "list.title", "list.description"} <= rules_broken(long)
    dup = MouthOutput(
        kind=MessageKind.LIST,
        text="Choose",
        list_button="Options",
        list_rows=[ListRow(id="a", title="A"), ListRow(id="a", title="B")],
    )
    assert "list.unique" in rules_broken(dup)


def test_cta_url_display_text_and_https() -> None:
    reply = MouthOutput.model_construct(
        kind=MessageKind.CTA_URL,
        text="Book here",
        cta_url=CtaUrl.model_construct(
            display_text="A display text far too long", url="http://acme-solar.example/x"
        ),
        buttons=[],
        list_rows=[],
    )
    assert {"cta_url.display_text", "cta_url.url"} <= rules_broken(reply)


def test_devanagari_customer_gets_devanagari() -> None:
    english = text("Thanks, the team will call you.")
    assert "script" in rules_broken(english, "मुझे सोलर पैनल चाहिए")
    hindi = text("धन्यवाद, टीम आपको कॉल करेगी।")
    assert "script" not in rules_broken(hindi, "मुझे सोलर पैनल चाहिए")


def test_hinglish_customer_gets_latin_script_not_devanagari() -> None:
    devanagari = text("धन्यवाद, टीम आपको कॉल करेगी।")
    assert "script" in rules_broken(devanagari, "bhai mujhe solar chahiye")
    assert "script" not in rules_broken(
        text("Shukriya, team aapko call karegi."), "bhai mujhe solar chahiye"
    )


def test_quoted_knowledge_does_not_count_against_the_script() -> None:
    reply = text("हमारी जानकारी के अनुसार: “The Starter plan costs ₹49,999 for a 2 kW system.”")
    assert rules_broken(reply, "कीमत कितनी है?") == set()


def test_emoji_only_customer_accepts_any_script() -> None:
    assert "script" not in rules_broken(text("Thanks!"), "👍")


def test_follow_up_uses_the_customers_last_script() -> None:
    ctx = turn(new_messages=[], history=[msg("नमस्ते, कीमत?", minutes_ago=200)])
    violations = check_reply(text("Just checking in."), ctx, retrieval=GROUNDED)
    assert {v.rule for v in violations} == {"script"}


@pytest.mark.parametrize(
    "body",
    [
        "Pay at https://evil.example/pay",
        "Visit www.other-shop.com for details",
        "See bit.ly/abc",
    ],
)
def test_links_outside_the_allowed_domains_are_refused(body: str) -> None:
    assert "link" in rules_broken(text(body))


@pytest.mark.parametrize(
    "body",
    [
        "Details at https://acme-solar.example/plans",
        "Details at https://help.acme-solar.example/faq",
        "Book here: https://acme-solar.example/survey",
    ],
)
def test_allowed_domains_subdomains_and_cta_urls_pass(body: str) -> None:
    assert "link" not in rules_broken(text(body))


def test_a_cta_url_elsewhere_is_allowed_because_it_is_the_ctas() -> None:
    from funnel.core.htl.schemas import CtaOption

    calendly = CtaOption(id="c1", label="Book", url="https://calendly.com/acme/30min")
    ctx = turn("book", ctas=[calendly])
    reply = MouthOutput(
        kind=MessageKind.CTA_URL,
        text="Pick a time",
        cta_url=CtaUrl(display_text="Book", url="https://calendly.com/acme/30min"),
    )
    assert check_reply(reply, ctx, retrieval=GROUNDED, cta_id="c1") == []
    wrong = reply.model_copy(
        update={"cta_url": CtaUrl(display_text="Book", url="https://acme-solar.example/other")}
    )
    assert {v.rule for v in check_reply(wrong, ctx, retrieval=GROUNDED, cta_id="c1")} == {"link"}


def test_a_price_not_in_the_knowledge_is_refused() -> None:
    assert "invented_amount" in rules_broken(text("The Starter plan costs ₹39,999."))


def test_a_price_from_the_knowledge_passes_in_another_format() -> None:
    assert rules_broken(text("Starter is Rs 49999.")) == set()


def test_no_grounding_means_no_knowledge_prices_either() -> None:
    assert "invented_amount" in rules_broken(
        text("The Starter plan costs ₹49,999."), retrieval=UNGROUNDED
    )


def test_percentages_are_amounts() -> None:
    assert "invented_amount" in rules_broken(text("You get 20% off today."))


def test_a_discount_the_customer_demanded_is_still_refused() -> None:
    reply = text("OK, 90% off for you.")
    assert "invented_amount" in rules_broken(reply, "give me 90% off")


def test_plain_numbers_the_customer_gave_may_be_echoed() -> None:
    assert rules_broken(text("Noted, a roof of 1200 sq ft."), "my roof is 1200 sq ft") == set()
    assert "invented_number" in rules_broken(text("Installation takes 3 days."))


def test_numbers_from_the_cta_and_the_profile_are_trusted() -> None:
    from funnel.core.htl.schemas import CtaOption

    profile = org(business_description="Rooftop solar since 2009.")
    offer = CtaOption(id="c1", label="Survey for ₹500, refundable")
    ctx = turn("hi", org_profile=profile, ctas=[offer])
    reply = text("Installing since 2009; a survey is ₹500, refundable.")
    assert check_reply(reply, ctx, retrieval=UNGROUNDED) == []
    assert check_reply(text("Installing since 2010."), ctx, retrieval=UNGROUNDED) != []


def test_devanagari_digits_are_compared_as_numbers() -> None:
    reply = text("स्टार्टर प्लान ₹४९,९९९ का है।")
    assert rules_broken(reply, "कीमत?") == set()


def test_at_most_one_question() -> None:
    assert "questions" in rules_broken(text("Is it for your home? How big is the roof?"))
    assert "questions" not in rules_broken(text("Is it for your home??"))


@pytest.mark.parametrize(
    "body",
    [
        "Speaking as an A.I., I can't say.",
        "As a AI model I cannot tell.",
        "I hope this helps!",
        "Feel free to ask.",
        "Great question!",
    ],
)
def test_assistant_speak_is_refused(body: str) -> None:
    assert "assistant_speak" in rules_broken(text(body))


def test_word_limit_follows_the_organisation() -> None:
    ctx = turn("hi", org_profile=org(reply_word_limit=10))
    violations = check_reply(
        text("one two three four five six seven eight nine ten eleven"), ctx, retrieval=GROUNDED
    )
    assert [v.rule for v in violations] == ["word_limit"]


def test_human_agent_numbers_may_be_echoed() -> None:
    history = [msg("Your order number is 4471", author=MessageAuthor.HUMAN, minutes_ago=5)]
    ctx = turn("which order?", history=history)
    assert check_reply(text("It is order 4471."), ctx, retrieval=UNGROUNDED) == []


# --- Graph bodies ------------------------------------------------------------------------------


def test_text_body() -> None:
    body = to_graph_body(text("Hello"), "919812345678", reply_to="wamid.X", callback_data="job-1")
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "919812345678",
        "context": {"message_id": "wamid.X"},
        "biz_opaque_callback_data": "job-1",
        "type": "text",
        "text": {"body": "Hello", "preview_url": False},
    }


def test_text_with_a_link_previews_it() -> None:
    body = to_graph_body(text("See https://acme-solar.example"), "1")
    assert body["text"]["preview_url"] is True


def test_buttons_body() -> None:
    reply = MouthOutput(
        kind=MessageKind.REPLY_BUTTONS,
        text="Book a survey?",
        buttons=[
            ReplyButton(id="cta:1:accept", title="Book"),
            ReplyButton(id="cta:1:later", title="Later"),
        ],
    )
    body = to_graph_body(reply, "1")
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "button",
        "body": {"text": "Book a survey?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "cta:1:accept", "title": "Book"}},
                {"type": "reply", "reply": {"id": "cta:1:later", "title": "Later"}},
            ]
        },
    }


def test_list_body() -> None:
    reply = MouthOutput(
        kind=MessageKind.LIST,
        text="Pick a slot",
        list_button="Slots",
        list_rows=[
            ListRow(id="s1", title="Mon 10:00", description="Bandra"),
            ListRow(id="s2", title="Tue 11:00"),
        ],
    )
    interactive = to_graph_body(reply, "1")["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Slots"
    assert interactive["action"]["sections"][0]["rows"] == [
        {"id": "s1", "title": "Mon 10:00", "description": "Bandra"},
        {"id": "s2", "title": "Tue 11:00"},
    ]


def test_cta_url_body() -> None:
    reply = MouthOutput(
        kind=MessageKind.CTA_URL,
        text="Book your survey",
        cta_url=CtaUrl(display_text="Book now", url="https://acme-solar.example/survey"),
    )
    assert to_graph_body(reply, "1")["interactive"] == {
        "type": "cta_url",
        "body": {"text": "Book your survey"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Book now", "url": "https://acme-solar.example/survey"},
        },
    }
