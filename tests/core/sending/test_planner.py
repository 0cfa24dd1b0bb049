"""Every branch of the send planner, as a pure function."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from funnel.core.models.enums import (
    MessageType,
    OutboxKind,
    TemplateParameterFormat,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.sending.planner import (
    BlockReason,
    SendVerdict,
    TemplateCandidate,
    TemplateValues,
    choose_template,
    plan_send,
)

TEXT = {"type": "text", "text": {"body": "Hello!", "preview_url": False}}


def template(
    purpose: TemplatePurpose | None = TemplatePurpose.FOLLOWUP,
    *,
    status: TemplateStatus = TemplateStatus.APPROVED,
    language: str = "en",
    name: str = "checkin",
    body: str = "Hi {{1}}, any questions for {{2}}?",
    fmt: TemplateParameterFormat = TemplateParameterFormat.POSITIONAL,
    extra: tuple[dict[str, Any], ...] = (),
) -> TemplateCandidate:
    return TemplateCandidate(
        id=uuid.uuid4(),
        name=name,
        language=language,
        status=status,
        purpose=purpose,
        components=({"type": "BODY", "text": body}, *extra),
        parameter_format=fmt,
    )


VALUES = TemplateValues(customer_name="Asha Rao", business_name="Acme Solar")


def test_inside_the_window_the_message_goes_as_it_is() -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=True,
        opted_out=False,
        templates=[template()],
        message=TEXT,
        preview="Hello!",
    )
    assert plan.verdict is SendVerdict.FREE_FORM
    assert plan.kind is OutboxKind.MESSAGE
    assert plan.message == TEXT
    assert plan.sendable


def test_closed_window_with_an_approved_template_sends_the_template_filled() -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template()],
        message=TEXT,
        values=VALUES,
    )
    assert plan.verdict is SendVerdict.TEMPLATE
    assert plan.kind is OutboxKind.TEMPLATE
    assert plan.message_type is MessageType.TEMPLATE
    assert plan.message == {
        "type": "template",
        "template": {
            "name": "checkin",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Asha Rao"},
                        {"type": "text", "text": "Acme Solar"},
                    ],
                }
            ],
        },
    }
    assert plan.preview == "Hi Asha Rao, any questions for Acme Solar?"


def test_closed_window_without_a_template_sends_nothing_and_asks_for_attention() -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template(TemplatePurpose.CTA)],
        message=TEXT,
    )
    assert plan.verdict is SendVerdict.BLOCKED
    assert plan.reason is BlockReason.NO_APPROVED_TEMPLATE
    assert plan.needs_attention
    assert plan.message is None
    assert "followup" in plan.detail


def test_closed_window_and_no_template_alternative_is_blocked_with_attention() -> None:
    plan = plan_send(purpose=None, window_open=False, opted_out=False, message=TEXT)
    assert plan.reason is BlockReason.NO_APPROVED_TEMPLATE
    assert plan.needs_attention


@pytest.mark.parametrize("window_open", [True, False])
def test_an_opted_out_lead_gets_nothing_whatever_the_window(window_open: bool) -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=window_open,
        opted_out=True,
        templates=[template()],
        message=TEXT,
    )
    assert plan.verdict is SendVerdict.BLOCKED
    assert plan.reason is BlockReason.OPTED_OUT
    assert not plan.needs_attention


@pytest.mark.parametrize(
    "status",
    [
        TemplateStatus.PAUSED,
        TemplateStatus.PENDING,
        TemplateStatus.REJECTED,
        TemplateStatus.DISABLED,
        TemplateStatus.DRAFT,
    ],
)
def test_a_template_that_is_not_approved_is_never_used(status: TemplateStatus) -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template(status=status)],
        message=TEXT,
    )
    assert plan.verdict is SendVerdict.BLOCKED
    assert plan.reason is BlockReason.NO_APPROVED_TEMPLATE


def test_a_template_without_a_purpose_is_not_picked() -> None:
    assert choose_template([template(None)], TemplatePurpose.FOLLOWUP) is None


def test_the_leads_language_is_preferred_then_the_organisations() -> None:
    en = template(language="en_US", name="a")
    hi = template(language="hi", name="b")
    assert choose_template([en, hi], TemplatePurpose.FOLLOWUP, ["hi-Deva", "en"]) is hi
    assert choose_template([en, hi], TemplatePurpose.FOLLOWUP, ["ta", "en"]) is en
    assert choose_template([en, hi], TemplatePurpose.FOLLOWUP, []) is en


def test_nothing_to_send_without_message_or_purpose() -> None:
    plan = plan_send(purpose=None, window_open=True, opted_out=False)
    assert plan.reason is BlockReason.NOTHING_TO_SEND
    assert not plan.needs_attention


def test_inside_the_window_a_template_only_send_uses_the_template() -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=True,
        opted_out=False,
        templates=[template()],
        values=VALUES,
    )
    assert plan.verdict is SendVerdict.TEMPLATE


def test_named_parameters_are_filled_by_name() -> None:
    named = template(body="Hello {{first_name}}!", fmt=TemplateParameterFormat.NAMED)
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[named],
        values=VALUES,
    )
    assert plan.message is not None
    params = plan.message["template"]["components"][0]["parameters"]
    assert params == [{"type": "text", "parameter_name": "first_name", "text": "Asha"}]


def test_unknown_names_fall_back_and_parameter_text_is_cleaned() -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template(body="Hi {{1}}")],
        values=TemplateValues(customer_name="  Ravi\n\tKumar   Sr ", business_name="X"),
    )
    assert plan.message is not None
    assert plan.message["template"]["components"][0]["parameters"][0]["text"] == "Ravi Kumar Sr"
    nameless = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template(body="Hi {{1}}")],
        values=TemplateValues(),
    )
    assert nameless.preview == "Hi there"


@pytest.mark.parametrize(
    "extra",
    [
        {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x.example/{{1}}"}]},
        {"type": "HEADER", "format": "IMAGE"},
    ],
)
def test_a_template_needing_values_we_do_not_have_is_unusable(extra: dict[str, Any]) -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template(extra=(extra,))],
        values=VALUES,
    )
    assert plan.reason is BlockReason.TEMPLATE_UNUSABLE
    assert plan.needs_attention


def test_a_placeholder_beyond_the_known_values_is_unusable() -> None:
    plan = plan_send(
        purpose=TemplatePurpose.FOLLOWUP,
        window_open=False,
        opted_out=False,
        templates=[template(body="{{1}} {{2}} {{3}}")],
        values=VALUES,
    )
    assert plan.reason is BlockReason.TEMPLATE_UNUSABLE
