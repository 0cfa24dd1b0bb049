"""Deciding whether, and how, a message may go to a customer right now.

WhatsApp's rules (protocol doc §1.12): inside the 24-hour customer-service window any message may
be sent; outside it only an approved template. The original computed the window, passed it to the
model as text and enforced it nowhere: human sends, follow-ups and the bot all sent free-form text
into closed windows and Meta answered 131047. Here every outbound message is planned by
:func:`plan_send` first, and the plan is what gets queued:

* the lead opted out → nothing, ever (opt-outs are checked before anything else);
* window open and a free-form message → that message;
* window closed (or no free-form message) → the organisation's **approved** template mapped to
  the send's purpose, in the lead's language when there is one, with its parameters filled;
* otherwise → nothing, and the plan says the conversation needs a person's attention.

The function is pure (no clock, no database): the caller passes the window state and the
candidate templates, so every branch is testable in microseconds and the API, the worker and the
evaluation harness share one implementation.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from funnel.core.models.enums import (
    MessageType,
    OutboxKind,
    TemplateParameterFormat,
    TemplatePurpose,
    TemplateStatus,
)

#: Placeholders in a template component's text: ``{{1}}`` (positional) or ``{{name}}`` (named).
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
#: Meta rejects template parameter text with newlines, tabs or more than four spaces in a row.
_PARAM_SPACES = re.compile(r"\s{2,}")
PARAMETER_MAX = 1024


class SendVerdict(enum.StrEnum):
    #: Send the caller's message as it is (inside the window).
    FREE_FORM = "free_form"
    #: Send the approved template in :attr:`SendPlan.message` instead.
    TEMPLATE = "template"
    #: Send nothing; :attr:`SendPlan.reason` says why.
    BLOCKED = "blocked"


class BlockReason(enum.StrEnum):
    OPTED_OUT = "opted_out"
    #: Outside the window with no approved template for the purpose.
    NO_APPROVED_TEMPLATE = "no_approved_template"
    #: An approved template exists but needs parameters the planner cannot fill.
    TEMPLATE_UNUSABLE = "template_unusable"
    #: Neither a free-form message nor a template purpose was given.
    NOTHING_TO_SEND = "nothing_to_send"


@dataclass(frozen=True, slots=True)
class TemplateCandidate:
    """One of the organisation's templates as the planner sees it (a ``templates`` row)."""

    id: uuid.UUID
    name: str
    language: str
    status: TemplateStatus
    purpose: TemplatePurpose | None
    components: tuple[Mapping[str, Any], ...] = ()
    parameter_format: TemplateParameterFormat = TemplateParameterFormat.POSITIONAL

    @property
    def usable(self) -> bool:
        # Meta accepts only APPROVED templates (a paused one fails with 132015, a disabled one
        # with 132016), so nothing else is ever planned.
        return self.status is TemplateStatus.APPROVED and self.purpose is not None


@dataclass(frozen=True, slots=True)
class TemplateValues:
    """What template parameters may be filled with. Only values we know to be true: a template
    is sent without a model, so nothing in it may be invented."""

    customer_name: str | None = None
    business_name: str | None = None
    #: Used for a name placeholder when the customer's name is unknown.
    name_fallback: str = "there"
    #: Extra named values (``{{order_id}}``) a caller knows.
    extra: Mapping[str, str] = field(default_factory=dict)

    def named(self) -> dict[str, str]:
        name = (self.customer_name or "").strip() or self.name_fallback
        values = {"name": name, "customer_name": name, "first_name": name.split()[0]}
        if self.business_name:
            values.update(business_name=self.business_name, business=self.business_name)
        values.update(self.extra)
        return values

    def positional(self) -> list[str]:
        """``{{1}}`` is the customer's name, ``{{2}}`` the business: the convention documented
        for template authors in docs/pipeline.md."""
        named = self.named()
        return [named["name"], *([self.business_name] if self.business_name else [])]


@dataclass(frozen=True, slots=True)
class SendPlan:
    verdict: SendVerdict
    #: The Graph message part to queue (``{"type": …, …}``), ``None`` when blocked.
    message: dict[str, Any] | None = None
    kind: OutboxKind | None = None
    message_type: MessageType | None = None
    preview: str = ""
    template: TemplateCandidate | None = None
    purpose: TemplatePurpose | None = None
    reason: BlockReason | None = None
    detail: str = ""
    #: True when nothing could be sent for a reason a person can fix (a closed window with no
    #: approved template): the caller raises the conversation's attention flag with ``detail``.
    needs_attention: bool = False

    @property
    def sendable(self) -> bool:
        return self.verdict is not SendVerdict.BLOCKED


def purpose_for_action(action: str | None, *, followup: bool) -> TemplatePurpose:
    """The template purpose that stands in for a free-form bot message of ``action`` (the
    pipeline's action value) when the window is closed: a CTA offer → ``cta``, a handoff notice →
    ``handoff``, anything else → ``followup`` on a follow-up turn, ``reengagement`` otherwise.
    The policy stage maps a window closed up front the same way."""
    if action == "initiate_cta":
        return TemplatePurpose.CTA
    if action == "handoff":
        return TemplatePurpose.HANDOFF
    return TemplatePurpose.FOLLOWUP if followup else TemplatePurpose.REENGAGEMENT


def _primary(language: str | None) -> str:
    return (language or "").replace("-", "_").split("_")[0].lower()


def choose_template(
    templates: Sequence[TemplateCandidate],
    purpose: TemplatePurpose,
    languages: Sequence[str | None] = (),
) -> TemplateCandidate | None:
    """The approved template for ``purpose``, preferring the first matching language."""
    usable = [t for t in templates if t.usable and t.purpose is purpose]
    if not usable:
        return None
    for language in languages:
        if not language:
            continue
        exact = [t for t in usable if t.language.lower() == language.lower()]
        if exact:
            return exact[0]
        primary = [t for t in usable if _primary(t.language) == _primary(language)]
        if primary:
            return primary[0]
    return sorted(usable, key=lambda t: (t.language, t.name))[0]


def _clean_parameter(value: str) -> str:
    return _PARAM_SPACES.sub(" ", value.replace("\n", " ").replace("\t", " ")).strip()[
        :PARAMETER_MAX
    ]


def _component_text(component: Mapping[str, Any]) -> str:
    text = component.get("text")
    return text if isinstance(text, str) else ""


class TemplateParameterError(ValueError):
    """The template has a placeholder the planner has no true value for."""


def template_message(template: TemplateCandidate, values: TemplateValues) -> dict[str, Any]:
    """The Graph ``type: template`` message part for ``template`` with its parameters filled.

    Header and body text placeholders are filled; a template with a dynamic URL button or a
    media header needs values only its author knows, so it raises
    :class:`TemplateParameterError` and the planner treats it as unusable.
    """
    named = values.named()
    positional = values.positional()
    components: list[dict[str, Any]] = []
    for component in template.components:
        ctype = str(component.get("type", "")).upper()
        if ctype == "BUTTONS":
            for button in component.get("buttons") or ():
                if isinstance(button, Mapping) and _PLACEHOLDER.search(str(button.get("url", ""))):
                    raise TemplateParameterError("dynamic URL button")
            continue
        if ctype == "HEADER" and str(component.get("format", "TEXT")).upper() != "TEXT":
            raise TemplateParameterError("media header")
        if ctype not in ("HEADER", "BODY"):
            continue
        names = _PLACEHOLDER.findall(_component_text(component))
        if not names:
            continue
        parameters: list[dict[str, str]] = []
        for placeholder in dict.fromkeys(names):
            if template.parameter_format is TemplateParameterFormat.NAMED:
                if placeholder not in named:
                    raise TemplateParameterError(f"no value for {{{{{placeholder}}}}}")
                parameters.append(
                    {
                        "type": "text",
                        "parameter_name": placeholder,
                        "text": _clean_parameter(named[placeholder]),
                    }
                )
            else:
                index = int(placeholder) - 1 if placeholder.isdigit() else -1
                if not 0 <= index < len(positional):
                    raise TemplateParameterError(f"no value for {{{{{placeholder}}}}}")
                parameters.append({"type": "text", "text": _clean_parameter(positional[index])})
        components.append({"type": ctype.lower(), "parameters": parameters})
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if components:
        body["components"] = components
    return {"type": "template", "template": body}


def template_preview(template: TemplateCandidate, values: TemplateValues) -> str:
    """The body text as the customer will read it, for the timeline and conversation preview."""
    named = values.named()
    positional = values.positional()
    for component in template.components:
        if str(component.get("type", "")).upper() == "BODY":

            def fill(match: re.Match[str]) -> str:
                key = match.group(1)
                if key.isdigit() and 0 < int(key) <= len(positional):
                    return positional[int(key) - 1]
                return named.get(key, match.group(0))

            return _PLACEHOLDER.sub(fill, _component_text(component))[:200]
    return f"[template {template.name}]"


def plan_send(
    *,
    purpose: TemplatePurpose | None,
    window_open: bool,
    opted_out: bool,
    templates: Sequence[TemplateCandidate] = (),
    message: Mapping[str, Any] | None = None,
    preview: str = "",
    message_type: MessageType = MessageType.TEXT,
    languages: Sequence[str | None] = (),
    values: TemplateValues | None = None,
) -> SendPlan:
    """Plan one outbound message.

    ``message`` is the free-form Graph message part the caller would like to send (``None`` when
    only a template can do, e.g. a template fallback); ``purpose`` names the template to use when
    the window is closed (``None``: the caller has no template alternative). ``languages`` is the
    order of preference for the template's language (the lead's, then the organisation's).
    Returns a :class:`SendPlan`; only a plan with :attr:`SendPlan.sendable` may be queued, and
    only its :attr:`SendPlan.message`.
    """
    if opted_out:
        return SendPlan(
            SendVerdict.BLOCKED,
            purpose=purpose,
            reason=BlockReason.OPTED_OUT,
            detail="the lead opted out of messages",
        )
    if window_open and message is not None:
        return SendPlan(
            SendVerdict.FREE_FORM,
            message=dict(message),
            kind=OutboxKind.MESSAGE,
            message_type=message_type,
            preview=preview,
            purpose=purpose,
        )
    if purpose is None:
        if message is None:
            return SendPlan(
                SendVerdict.BLOCKED, reason=BlockReason.NOTHING_TO_SEND, detail="nothing to send"
            )
        return SendPlan(
            SendVerdict.BLOCKED,
            reason=BlockReason.NO_APPROVED_TEMPLATE,
            detail="24-hour window closed and the message has no template alternative",
            needs_attention=True,
        )
    template = choose_template(templates, purpose, languages)
    if template is None:
        where = "24-hour window closed" if not window_open else "no free-form message"
        return SendPlan(
            SendVerdict.BLOCKED,
            purpose=purpose,
            reason=BlockReason.NO_APPROVED_TEMPLATE,
            detail=f"{where} and no approved {purpose.value} template",
            needs_attention=True,
        )
    values = values or TemplateValues()
    try:
        body = template_message(template, values)
    except TemplateParameterError as error:
        return SendPlan(
            SendVerdict.BLOCKED,
            purpose=purpose,
            template=template,
            reason=BlockReason.TEMPLATE_UNUSABLE,
            detail=f"template {template.name!r} cannot be filled: {error}",
            needs_attention=True,
        )
    return SendPlan(
        SendVerdict.TEMPLATE,
        message=body,
        kind=OutboxKind.TEMPLATE,
        message_type=MessageType.TEMPLATE,
        preview=template_preview(template, values),
        template=template,
        purpose=purpose,
    )
