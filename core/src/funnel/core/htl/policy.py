"""The deterministic policy layer: Brain proposes, these rules dispose.

Nothing Brain outputs takes effect until :func:`apply_policy` has checked it against the
conversation's state and the organisation's configuration. Every change the rules make is
returned as an :class:`Override` (rule id, field, from, to, reason) for the turn's trace, so an
operator can see why the bot did not do what the model said.

The rules run in a fixed order; the first ones are absolute (a human owns the conversation, the
customer opted out) and end the evaluation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from funnel.core.htl.enums import (
    Action,
    ConversationMode,
    ConversationStage,
    CustomerIntent,
    MessageAuthor,
    RiskLevel,
    TemplatePurpose,
    TurnTrigger,
)
from funnel.core.htl.schemas import BrainOutput, EyesOutput, QuietHours, TurnContext

#: Below this, Brain's proposed stage change is not trusted (the original's 0.4 stickiness).
MIN_STAGE_CONFIDENCE = 0.4
#: Follow-up delays Brain may choose. Below the minimum a "follow-up" is spam; above the maximum
#: the 24-hour window and the customer's memory of us are long gone.
MIN_FOLLOWUP_MINUTES = 5
MAX_FOLLOWUP_MINUTES = 7 * 24 * 60
#: The delay used when Brain says ``wait`` without saying how long.
DEFAULT_FOLLOWUP_MINUTES = 60

_OPEN_STAGES = frozenset(
    {
        ConversationStage.GREETING,
        ConversationStage.QUALIFICATION,
        ConversationStage.PRICING,
        ConversationStage.CTA,
    }
)
_S = ConversationStage

#: Allowed stage moves on any turn (staying put is always allowed).
TRANSITIONS: dict[ConversationStage, frozenset[ConversationStage]] = {
    _S.GREETING: frozenset({_S.QUALIFICATION, _S.PRICING, _S.CTA, _S.LOST}),
    _S.QUALIFICATION: frozenset({_S.PRICING, _S.CTA, _S.LOST}),
    _S.PRICING: frozenset({_S.QUALIFICATION, _S.CTA, _S.LOST}),
    _S.CTA: frozenset({_S.QUALIFICATION, _S.PRICING, _S.CLOSED, _S.LOST}),
    _S.CLOSED: frozenset(),
    _S.LOST: frozenset(),
    _S.GHOSTED: frozenset(),
}
#: Extra moves allowed only when the customer wrote this turn (re-engagement).
REENGAGEMENT_TRANSITIONS: dict[ConversationStage, frozenset[ConversationStage]] = {
    # A closed deal reopens only with a new need.
    _S.CLOSED: frozenset({_S.QUALIFICATION, _S.PRICING, _S.CTA}),
    # Lost is terminal unless the customer comes back.
    _S.LOST: frozenset({_S.GREETING, _S.QUALIFICATION, _S.PRICING, _S.CTA}),
    # Ghosted moves anywhere once the customer answers.
    _S.GHOSTED: frozenset({_S.GREETING, _S.QUALIFICATION, _S.PRICING, _S.CTA, _S.CLOSED, _S.LOST}),
}
#: Moves allowed only on a follow-up turn: silence is what makes a conversation ghosted.
SILENCE_TRANSITIONS: dict[ConversationStage, frozenset[ConversationStage]] = {
    stage: frozenset({_S.GHOSTED}) for stage in _OPEN_STAGES
}


def transition_allowed(
    current: ConversationStage, proposed: ConversationStage, *, customer_turn: bool
) -> bool:
    if current == proposed:
        return True
    if proposed in TRANSITIONS[current]:
        return True
    if customer_turn:
        return proposed in REENGAGEMENT_TRANSITIONS.get(current, frozenset())
    return proposed in SILENCE_TRANSITIONS.get(current, frozenset())


# STOP-style messages, matched on the whole message so "don't stop" or "stop by the shop" do not
# unsubscribe anyone. Localised: English, Hinglish and Hindi in Devanagari.
_OPT_OUT = re.compile(
    r"^\s*(?:stop(?:\s+(?:all|messages?|messaging(?:\s+me)?|sending|it|please))?|"
    r"unsubscribe|opt[\s-]?out|stop\s+promotions?|no\s+more\s+messages?|"
    r"don'?t\s+(?:message|text|contact)\s+me(?:\s+again)?|"
    r"band\s+karo|bnd\s+kro|band\s+kar\s+do|mat\s+bhejo|message\s+mat\s+bhejo|"
    r"बंद\s*करो|बंद\s*करें|बंद\s*कर\s*दो|मत\s*भेजो|संदेश\s*मत\s*भेजो)"
    r"(?:\s+please|\s+pls|\s+plz)?\s*[.!।]*\s*$",
    re.IGNORECASE,
)


def is_opt_out_message(text: str) -> bool:
    """A deterministic STOP check that does not depend on the model noticing."""
    return bool(_OPT_OUT.match(text))


class Override(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    field: str
    from_value: str | None
    to_value: str | None
    reason: str


class FinalDecision(BaseModel):
    """What actually happens this turn."""

    action: Action
    new_stage: ConversationStage
    plan: str = ""
    cta_id: str | None = None
    template_purpose: TemplatePurpose | None = None
    followup_delay_minutes: int | None = None
    needs_attention: bool = False
    attention_reason: str | None = None
    #: The customer asked to stop (this turn): record the opt-out, send nothing.
    opt_out: bool = False
    #: Whether Mouth should write a free-form message (the send planner still gates it).
    compose_reply: bool = False
    overrides: list[Override] = Field(default_factory=list)

    def as_brain_output(self) -> BrainOutput:
        """The decision in Brain's shape, for Mouth's prompt."""
        return BrainOutput(
            action=self.action,
            new_stage=self.new_stage,
            plan=self.plan,
            cta_id=self.cta_id,
            template_purpose=self.template_purpose,
            followup_delay_minutes=self.followup_delay_minutes,
            needs_attention=self.needs_attention,
            attention_reason=self.attention_reason,
        )


@dataclass(slots=True)
class _Draft:
    action: Action
    new_stage: ConversationStage
    plan: str
    cta_id: str | None
    template_purpose: TemplatePurpose | None
    followup_delay_minutes: int | None
    needs_attention: bool
    attention_reason: str | None
    opt_out: bool
    overrides: list[Override]

    def set(self, rule: str, field: str, value: object, reason: str) -> None:
        old = getattr(self, field)
        if old == value:
            return
        self.overrides.append(
            Override(
                rule=rule,
                field=field,
                from_value=None if old is None else str(old),
                to_value=None if value is None else str(value),
                reason=reason,
            )
        )
        setattr(self, field, value)

    def attention(self, rule: str, reason: str) -> None:
        self.set(rule, "needs_attention", True, reason)
        if not self.attention_reason:
            self.set(rule, "attention_reason", reason, reason)


# Template purpose when a free-form message is wanted but the window is closed.
def _purpose_for(action: Action, ctx: TurnContext) -> TemplatePurpose:
    if action is Action.INITIATE_CTA:
        return TemplatePurpose.CTA
    if action is Action.HANDOFF:
        return TemplatePurpose.HANDOFF
    if ctx.trigger is TurnTrigger.FOLLOWUP:
        return TemplatePurpose.FOLLOWUP
    return TemplatePurpose.REENGAGEMENT


def apply_policy(ctx: TurnContext, eyes: EyesOutput, brain: BrainOutput) -> FinalDecision:
    """Check Brain's proposal; return the decision that will be carried out and why it differs."""
    d = _Draft(
        action=brain.action,
        new_stage=brain.new_stage,
        plan=brain.plan,
        cta_id=brain.cta_id,
        template_purpose=brain.template_purpose,
        followup_delay_minutes=brain.followup_delay_minutes,
        needs_attention=brain.needs_attention,
        attention_reason=brain.attention_reason,
        opt_out=False,
        overrides=[],
    )
    state = ctx.state
    customer_turn = ctx.trigger is TurnTrigger.CUSTOMER and bool(ctx.new_messages)

    # mode.human — the bot never talks over a person, whatever the model says. The stage and
    # flags are left as they are: the human owns the conversation now.
    if state.mode is not ConversationMode.BOT:
        d.set("mode.human", "action", Action.IGNORE, f"conversation is in {state.mode} mode")
        d.set("mode.human", "new_stage", state.stage, "no state changes while a human owns it")
        d.set("mode.human", "cta_id", None, "no CTA while a human owns it")
        d.set("mode.human", "followup_delay_minutes", None, "no follow-ups in human mode")
        return _final(d, ctx)

    # opt_out — a STOP this turn, or an earlier one, means no message of any kind.
    stop_now = customer_turn and (
        eyes.intent is CustomerIntent.OPT_OUT
        or any(
            is_opt_out_message(m.text) for m in ctx.new_messages if m.author is MessageAuthor.LEAD
        )
    )
    if stop_now or state.opted_out:
        reason = "customer asked to stop messages" if stop_now else "lead has opted out"
        d.opt_out = stop_now
        d.set("opt_out", "action", Action.IGNORE, reason)
        d.set("opt_out", "cta_id", None, reason)
        d.set("opt_out", "followup_delay_minutes", None, reason)
        d.set("opt_out", "template_purpose", None, reason)
        return _final(d, ctx)

    # risk.injection / risk.policy — a manipulation attempt or a risky conversation goes to a
    # person; the model's own plan for it is not trusted.
    if eyes.risk_flags.prompt_injection or eyes.risk_flags.policy is RiskLevel.HIGH:
        rule = "risk.injection" if eyes.risk_flags.prompt_injection else "risk.policy"
        reason = (
            "prompt-injection attempt" if eyes.risk_flags.prompt_injection else "high policy risk"
        )
        d.set(rule, "action", Action.HANDOFF, reason)
        d.set(rule, "cta_id", None, reason)
        d.set(rule, "new_stage", state.stage, reason)
        d.attention(rule, reason)

    # cta.unknown — only the organisation's active CTAs can be offered (a made-up id broke the
    # original's whole state update).
    if d.cta_id is not None and ctx.cta(d.cta_id) is None:
        d.set("cta.unknown", "cta_id", None, f"CTA {d.cta_id!r} is not an active CTA")
    if d.action is Action.INITIATE_CTA and d.cta_id is None:
        d.set("cta.unknown", "action", Action.RESPOND, "initiate_cta without a valid CTA")

    # stage.transition — the state machine, then the confidence gate.
    if not transition_allowed(state.stage, d.new_stage, customer_turn=customer_turn):
        d.set(
            "stage.transition",
            "new_stage",
            state.stage,
            f"{state.stage} → {d.new_stage} is not an allowed transition",
        )
    if brain.confidence < MIN_STAGE_CONFIDENCE and d.new_stage != state.stage:
        d.set(
            "stage.low_confidence",
            "new_stage",
            state.stage,
            f"confidence {brain.confidence:.2f} < {MIN_STAGE_CONFIDENCE}",
        )

    # handoff.attention — a handoff always raises the flag, with a reason.
    if d.action is Action.HANDOFF:
        d.attention("handoff.attention", "handed off to a person")

    # followup.bounds — a wait needs a delay; every delay within bounds.
    if d.action is Action.WAIT and d.followup_delay_minutes is None:
        d.set(
            "followup.bounds",
            "followup_delay_minutes",
            DEFAULT_FOLLOWUP_MINUTES,
            "wait without a delay",
        )
    if d.followup_delay_minutes is not None:
        bounded = min(max(d.followup_delay_minutes, MIN_FOLLOWUP_MINUTES), MAX_FOLLOWUP_MINUTES)
        d.set(
            "followup.bounds",
            "followup_delay_minutes",
            bounded,
            f"delay kept within {MIN_FOLLOWUP_MINUTES}..{MAX_FOLLOWUP_MINUTES} minutes",
        )

    # window.closed — outside the 24-hour window only an approved template can go out.
    wants_free_form = d.action in (Action.RESPOND, Action.INITIATE_CTA) or (
        d.action is Action.HANDOFF and ctx.org.handoff_notice
    )
    if not state.window_open and wants_free_form:
        purpose = _purpose_for(d.action, ctx)
        if purpose in ctx.org.template_purposes:
            if d.action is not Action.HANDOFF:
                d.set("window.closed", "action", Action.SEND_TEMPLATE, "24-hour window closed")
            d.set("window.closed", "template_purpose", purpose, "approved template for purpose")
        else:
            reason = f"24-hour window closed and no approved {purpose} template"
            if d.action is not Action.HANDOFF:
                d.set("window.closed", "action", Action.IGNORE, reason)
            d.attention("window.closed", reason)

    # template.purpose — a template send needs a purpose the organisation has a template for.
    if d.action is Action.SEND_TEMPLATE:
        if d.template_purpose is None:
            d.set(
                "template.purpose",
                "template_purpose",
                _purpose_for(brain.action, ctx),
                "send_template without a purpose",
            )
        if d.template_purpose not in ctx.org.template_purposes:
            reason = f"no approved template for purpose {d.template_purpose}"
            d.set("template.purpose", "action", Action.IGNORE, reason)
            d.attention("template.purpose", reason)
    elif d.action is not Action.HANDOFF and d.template_purpose is not None:
        d.set("template.purpose", "template_purpose", None, "only template sends have a purpose")

    return _final(d, ctx)


def _final(d: _Draft, ctx: TurnContext) -> FinalDecision:
    compose = d.action in (Action.RESPOND, Action.INITIATE_CTA) or (
        d.action is Action.HANDOFF
        and ctx.org.handoff_notice
        and ctx.state.window_open
        and ctx.state.mode is ConversationMode.BOT
    )
    return FinalDecision(
        action=d.action,
        new_stage=d.new_stage,
        plan=d.plan,
        cta_id=d.cta_id,
        template_purpose=d.template_purpose,
        followup_delay_minutes=d.followup_delay_minutes,
        needs_attention=d.needs_attention,
        attention_reason=d.attention_reason,
        opt_out=d.opt_out,
        compose_reply=compose,
        overrides=d.overrides,
    )


def handoff_after_failure(decision: FinalDecision, reason: str) -> FinalDecision:
    """Mouth could not produce a valid message: a person takes over, silently for the customer.

    Never a canned "technical trouble" text: the customer gets nothing from the bot, and the
    dashboard gets the conversation with the reason.
    """
    override = Override(
        rule="mouth.failed",
        field="action",
        from_value=decision.action.value,
        to_value=Action.HANDOFF.value,
        reason=reason,
    )
    return decision.model_copy(
        update={
            "action": Action.HANDOFF,
            "cta_id": None,
            "needs_attention": True,
            "attention_reason": decision.attention_reason or reason,
            "compose_reply": False,
            "overrides": [*decision.overrides, override],
        }
    )


def next_allowed_time(when: datetime, quiet_hours: QuietHours | None, timezone: str) -> datetime:
    """``when`` if it is outside the organisation's quiet hours, else the moment they end.

    ``when`` must be timezone-aware; the result is in the same timezone as ``when``. Quiet hours
    are local wall-clock times in ``timezone`` and may wrap midnight (21:00 → 09:00). On a
    daylight-saving change the end time is resolved by :mod:`zoneinfo` (a skipped wall time maps
    forward), so a follow-up is never scheduled inside the quiet period.
    """
    if when.tzinfo is None:
        raise ValueError("when must be timezone-aware")
    if quiet_hours is None or quiet_hours.start == quiet_hours.end:
        return when
    zone = ZoneInfo(timezone)
    local = when.astimezone(zone)
    start, end = quiet_hours.start, quiet_hours.end
    clock = local.timetz().replace(tzinfo=None)

    def at(day: datetime, moment: time) -> datetime:
        return datetime.combine(day.date(), moment, tzinfo=zone)

    if start < end:
        # Same-day window, e.g. 13:00–14:00.
        if start <= clock < end:
            return at(local, end).astimezone(when.tzinfo)
        return when
    # Wrapping window, e.g. 21:00–09:00.
    if clock >= start:
        return at(local + timedelta(days=1), end).astimezone(when.tzinfo)
    if clock < end:
        return at(local, end).astimezone(when.tzinfo)
    return when
