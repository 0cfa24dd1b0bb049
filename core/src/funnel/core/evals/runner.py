"""Running scenarios: in-memory turns through the real pipeline and the real send planner.

No Kafka and no database: a scenario's conversation lives in :class:`_Conversation`, each turn is
built as the worker's :class:`~funnel.core.turns.contract.Turn` and handed to
:class:`~funnel.core.turns.htl_pipeline.HtlPipeline`, and the result is applied the way
``persist_turn`` applies it (the same :func:`~funnel.core.sending.planner.plan_send` gate for
every reply). What the worker decides *before* calling the pipeline is mirrored too: a message
in human mode or from an opted-out lead gets no turn, a STOP keyword is recorded at ingest, and a
follow-up outside the window is a template or nothing.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from funnel.core.evals.retriever import KeywordRetriever
from funnel.core.evals.scenario import Expect, Scenario, TurnSpec
from funnel.core.htl.text import dominant_script, find_urls, words
from funnel.core.inbound.optout import is_opt_out_text
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    CtaState,
    IntentLevel,
    MessageAuthor,
    MessageType,
    Sentiment,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.sending.planner import (
    SendPlan,
    SendVerdict,
    TemplateCandidate,
    TemplateValues,
    plan_send,
)
from funnel.core.turns.contract import (
    ConversationSnapshot,
    CtaOption,
    LeadSnapshot,
    OrganisationProfile,
    Turn,
    TurnMessage,
    TurnResult,
)
from funnel.core.turns.htl_pipeline import HtlPipeline

#: Scenarios start on a Monday morning in India, outside any sensible quiet hours.
START = dt.datetime(2026, 3, 2, 5, 30, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=24)
_TERMINAL = frozenset({ConversationStage.CLOSED, ConversationStage.LOST, ConversationStage.GHOSTED})
_NAMESPACE = uuid.UUID("6f1c1f2e-8a57-4a8e-9d7e-5b0f3f8f2c11")


def _id(scenario: str, *parts: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "/".join((scenario, *parts)))


@dataclass(slots=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass(slots=True)
class TurnReport:
    index: int
    action: str
    replies: list[str]
    checks: list[Check] = field(default_factory=list)
    input_tokens: int = 0
    latency_ms: float = 0.0

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


@dataclass(slots=True)
class ScenarioReport:
    name: str
    provider: str
    required: bool
    turns: list[TurnReport] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False
    duration_ms: float = 0.0

    @property
    def passed_checks(self) -> int:
        return sum(1 for t in self.turns for c in t.checks if c.passed)

    @property
    def failed_checks(self) -> int:
        return sum(1 for t in self.turns for c in t.checks if not c.passed) + (
            1 if self.error else 0
        )

    @property
    def passed(self) -> bool:
        return not self.skipped and self.failed_checks == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "required": self.required,
            "skipped": self.skipped,
            "passed": self.passed,
            "passed_checks": self.passed_checks,
            "failed_checks": self.failed_checks,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
            "turns": [
                {
                    "index": t.index,
                    "action": t.action,
                    "replies": t.replies,
                    "input_tokens": t.input_tokens,
                    "latency_ms": round(t.latency_ms, 1),
                    "checks": [
                        {"name": c.name, "passed": c.passed, "detail": c.detail} for c in t.checks
                    ],
                }
                for t in self.turns
            ],
        }


@dataclass(slots=True)
class _Sent:
    plan: SendPlan
    text: str


@dataclass(slots=True)
class _Conversation:
    """The scenario's conversation state, as the database would hold it."""

    scenario: Scenario
    now: dt.datetime
    mode: ConversationMode
    stage: ConversationStage
    opted_out: bool
    summary: str
    cta_id: uuid.UUID | None
    cta_state: CtaState | None
    last_inbound_at: dt.datetime | None
    window_expires_at: dt.datetime | None
    intent_level: IntentLevel = IntentLevel.UNKNOWN
    sentiment: Sentiment = Sentiment.NEUTRAL
    needs_attention: bool = False
    followups_sent_24h: int = 0
    total_nudges: int = 0
    history: list[TurnMessage] = field(default_factory=list)
    counter: int = 0

    def window_open(self) -> bool:
        return self.window_expires_at is not None and self.now < self.window_expires_at

    def next_id(self) -> uuid.UUID:
        self.counter += 1
        return _id(self.scenario.name, "message", str(self.counter))


def _start(scenario: Scenario) -> _Conversation:
    state = scenario.state
    if state.window_open:
        last_inbound: dt.datetime | None = START - dt.timedelta(minutes=5)
    else:
        last_inbound = START - dt.timedelta(hours=30)
    cta_id = _id(scenario.name, "cta", state.cta_offered) if state.cta_offered else None
    return _Conversation(
        scenario=scenario,
        now=START,
        mode=ConversationMode(state.mode),
        stage=ConversationStage(state.stage),
        opted_out=state.opted_out,
        summary=state.summary,
        cta_id=cta_id,
        cta_state=CtaState.OFFERED if cta_id else None,
        last_inbound_at=last_inbound,
        window_expires_at=last_inbound + WINDOW if last_inbound else None,
    )


def templates_for(scenario: Scenario) -> tuple[TemplateCandidate, ...]:
    org = scenario.organisation
    return tuple(
        TemplateCandidate(
            id=_id(scenario.name, "template", purpose),
            name=f"{purpose}_v1",
            language=org.language,
            status=TemplateStatus.APPROVED,
            purpose=TemplatePurpose(purpose),
            components=({"type": "BODY", "text": f"Hi {{{{1}}}}, {{{{2}}}} here ({purpose})."},),
        )
        for purpose in org.templates
    )


def _organisation(scenario: Scenario) -> OrganisationProfile:
    org = scenario.organisation
    return OrganisationProfile(
        id=_id(scenario.name, "organisation"),
        name=org.business_name,
        business_name=org.business_name,
        business_description=org.description,
        persona_prompt=org.persona,
        flow_prompt=org.flow,
        timezone=org.timezone,
        default_language=org.language,
        reply_word_limit=org.reply_word_limit,
        allowed_link_domains=tuple(org.allowed_link_domains),
        quiet_hours=dict(org.quiet_hours),
        notify_customer_on_handoff=org.notify_customer_on_handoff,
    )


def _customer_messages(conv: _Conversation, spec: TurnSpec) -> list[TurnMessage]:
    messages: list[TurnMessage] = []
    texts = [spec.customer] if isinstance(spec.customer, str) else list(spec.customer or [])
    for offset, text in enumerate(texts):
        message_id = conv.next_id()
        messages.append(
            TurnMessage(
                id=message_id,
                author=MessageAuthor.LEAD,
                type=MessageType.TEXT,
                text=text,
                content={},
                at=conv.now + dt.timedelta(seconds=offset),
                wamid=f"wamid.{message_id.hex[:16]}",
            )
        )
    if spec.button:
        cta_id = _id(conv.scenario.name, "cta", spec.button)
        message_id = conv.next_id()
        reply = {"id": f"cta:{cta_id}:accept", "title": "Yes"}
        messages.append(
            TurnMessage(
                id=message_id,
                author=MessageAuthor.LEAD,
                type=MessageType.INTERACTIVE,
                text="Yes",
                content={"interactive": {"type": "button_reply", "button_reply": reply}},
                at=conv.now,
                wamid=f"wamid.{message_id.hex[:16]}",
            )
        )
    return messages


def _text_of(plan: SendPlan) -> str:
    message = plan.message or {}
    if message.get("type") == "text":
        return str(message.get("text", {}).get("body", ""))
    if message.get("type") == "interactive":
        interactive = message.get("interactive", {})
        parts = [str(interactive.get("body", {}).get("text", ""))]
        action = interactive.get("action", {})
        parts += [str(b.get("reply", {}).get("title", "")) for b in action.get("buttons", [])]
        return "\n".join(p for p in parts if p)
    return plan.preview


class ScenarioRunner:
    """Runs scenarios with one pipeline (one provider)."""

    def __init__(self, pipeline: HtlPipeline) -> None:
        self.pipeline = pipeline

    @property
    def provider(self) -> str:
        return self.pipeline.client.provider

    async def run(self, scenario: Scenario) -> ScenarioReport:
        report = ScenarioReport(
            name=scenario.name,
            provider=self.provider,
            required=scenario.required_for(self.provider),
        )
        if not scenario.runs_with(self.provider):
            report.skipped = True
            return report
        started = time.perf_counter()
        self.pipeline.retriever = KeywordRetriever(scenario.knowledge)
        conv = _start(scenario)
        try:
            for index, spec in enumerate(scenario.turns, start=1):
                report.turns.append(await self._turn(conv, index, spec))
        except Exception as exc:
            report.error = f"{type(exc).__name__}: {exc}"[:500]
        report.duration_ms = (time.perf_counter() - started) * 1000
        return report

    async def _turn(self, conv: _Conversation, index: int, spec: TurnSpec) -> TurnReport:
        scenario = conv.scenario
        conv.now += dt.timedelta(minutes=spec.advance_minutes)
        if spec.set_mode is not None:
            conv.mode = ConversationMode(spec.set_mode)
        new = _customer_messages(conv, spec)
        templates = templates_for(scenario)
        result: TurnResult | None = None
        sent: list[_Sent] = []
        action = "ignore"
        if new:
            # Ingest: the window moves, the daily nudge budget resets, STOP is recorded.
            conv.last_inbound_at = new[-1].at
            conv.window_expires_at = new[-1].at + WINDOW
            conv.followups_sent_24h = 0
            if any(is_opt_out_text(m.text or "") for m in new):
                conv.opted_out = True
        started = time.perf_counter()
        wanted = bool(new) or (spec.followup and conv.stage not in _TERMINAL)
        if wanted and conv.mode is ConversationMode.BOT and not conv.opted_out:
            if spec.followup and not new and not conv.window_open():
                # The scheduled follow-up handler: outside the window a template or nothing.
                plan = self._plan(conv, TemplatePurpose.FOLLOWUP, None, "", templates)
                if plan.sendable:
                    sent.append(_Sent(plan, _text_of(plan)))
                    action = "send_template"
            else:
                result = await self.pipeline.run_turn(self._build(conv, new, templates, spec))
                action = str(result.decision.get("action", "ignore"))
                sent = self._apply(conv, result, templates)
        latency_ms = (time.perf_counter() - started) * 1000
        conv.history.extend(new)
        for item in sent:
            conv.history.append(
                TurnMessage(
                    id=conv.next_id(),
                    author=MessageAuthor.BOT,
                    type=MessageType.TEXT,
                    text=item.text,
                    content={},
                    at=conv.now,
                )
            )
        report = TurnReport(
            index=index,
            action=action,
            replies=[s.text for s in sent],
            input_tokens=result.input_tokens if result else 0,
            latency_ms=latency_ms,
        )
        report.checks = check(spec.expect, conv, result, sent, action)
        return report

    def _build(
        self,
        conv: _Conversation,
        new: list[TurnMessage],
        templates: tuple[TemplateCandidate, ...],
        spec: TurnSpec,
    ) -> Turn:
        scenario = conv.scenario
        return Turn(
            organisation=_organisation(scenario),
            conversation=ConversationSnapshot(
                id=_id(scenario.name, "conversation"),
                lead_id=_id(scenario.name, "lead"),
                channel_id=_id(scenario.name, "channel"),
                mode=conv.mode,
                stage=conv.stage,
                intent_level=conv.intent_level,
                sentiment=conv.sentiment,
                needs_attention=conv.needs_attention,
                cta_id=conv.cta_id,
                cta_state=conv.cta_state,
                rolling_summary=conv.summary,
                followups_sent_24h=conv.followups_sent_24h,
                total_nudges=conv.total_nudges,
                last_inbound_at=conv.last_inbound_at,
                window_expires_at=conv.window_expires_at,
            ),
            lead=LeadSnapshot(
                id=_id(scenario.name, "lead"),
                wa_id="919800000000",
                bsuid=None,
                name=scenario.state.lead_name,
                language=None,
                opted_out=conv.opted_out,
            ),
            new_messages=tuple(new),
            history=tuple(conv.history[-40:]),
            ctas=tuple(
                CtaOption(
                    id=_id(scenario.name, "cta", c.key),
                    type=c.type,
                    name=c.name,
                    url=c.url,
                    button_text=None,
                )
                for c in scenario.ctas
            ),
            now=conv.now,
            correlation_id=f"eval:{scenario.name}",
            trigger="followup" if spec.followup and not new else "message",
            templates=templates,
            followup_hint=spec.hint if spec.followup and not new else None,
        )

    def _plan(
        self,
        conv: _Conversation,
        purpose: TemplatePurpose | None,
        message: dict[str, Any] | None,
        preview: str,
        templates: tuple[TemplateCandidate, ...],
        message_type: MessageType = MessageType.TEXT,
    ) -> SendPlan:
        org = conv.scenario.organisation
        return plan_send(
            purpose=purpose,
            window_open=conv.window_open(),
            opted_out=conv.opted_out,
            templates=templates,
            message=message,
            preview=preview,
            message_type=message_type,
            languages=(org.language,),
            values=TemplateValues(
                customer_name=conv.scenario.state.lead_name, business_name=org.business_name
            ),
        )

    def _apply(
        self, conv: _Conversation, result: TurnResult, templates: tuple[TemplateCandidate, ...]
    ) -> list[_Sent]:
        """``persist_turn`` in memory: the update, then every reply through the planner."""
        bot_may_speak = conv.mode is ConversationMode.BOT
        update = result.update
        if update.mode is not None:
            conv.mode = update.mode
        if update.stage is not None:
            conv.stage = update.stage
        if update.intent_level is not None:
            conv.intent_level = update.intent_level
        if update.sentiment is not None:
            conv.sentiment = update.sentiment
        if update.needs_attention:
            conv.needs_attention = True
        if update.cta_id is not None:
            conv.cta_id = update.cta_id
            conv.cta_state = update.cta_state or CtaState.OFFERED
        elif update.cta_state is not None:
            conv.cta_state = update.cta_state
        if update.opted_out:
            conv.opted_out = True
        sent: list[_Sent] = []
        if not bot_may_speak or conv.opted_out:
            return sent
        for reply in result.replies:
            plan = self._plan(
                conv,
                reply.purpose,
                reply.message if reply.message else None,
                reply.preview,
                templates,
                reply.message_type,
            )
            if plan.sendable:
                sent.append(_Sent(plan, _text_of(plan)))
            elif plan.needs_attention:
                conv.needs_attention = True
        return sent


def _lower(text: str) -> str:
    return text.casefold()


def check(
    expect: Expect,
    conv: _Conversation,
    result: TurnResult | None,
    sent: list[_Sent],
    action: str,
) -> list[Check]:
    """Evaluate one turn's assertions."""
    checks: list[Check] = []
    text = "\n".join(s.text for s in sent)

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, ok, "" if ok else detail))

    if expect.action is not None:
        allowed = [expect.action] if isinstance(expect.action, str) else expect.action
        add(f"action in {allowed}", action in allowed, f"action was {action}")
    if expect.reply is not None:
        add(
            "reply" if expect.reply else "no reply",
            bool(sent) == expect.reply,
            f"{len(sent)} message(s) sent: {text[:120]!r}",
        )
    if expect.replies is not None:
        add(f"{expect.replies} message(s)", len(sent) == expect.replies, f"{len(sent)} sent")
    for needle in expect.mentions:
        add(f"mentions {needle!r}", _lower(needle) in _lower(text), f"reply: {text[:160]!r}")
    if expect.mentions_any:
        add(
            f"mentions one of {expect.mentions_any}",
            any(_lower(n) in _lower(text) for n in expect.mentions_any),
            f"reply: {text[:160]!r}",
        )
    for needle in expect.not_mentions:
        add(f"does not mention {needle!r}", _lower(needle) not in _lower(text), f"{text[:160]!r}")
    if expect.no_url:
        urls = find_urls(text)
        add("no URL", not urls, f"found {urls}")
    if expect.stage is not None:
        add(f"stage {expect.stage}", conv.stage.value == expect.stage, f"stage {conv.stage.value}")
    if expect.handoff is not None:
        handed = action == "handoff" or conv.mode is ConversationMode.HUMAN
        add("handoff" if expect.handoff else "no handoff", handed == expect.handoff, action)
    if expect.mode is not None:
        add(f"mode {expect.mode}", conv.mode.value == expect.mode, f"mode {conv.mode.value}")
    if expect.opted_out is not None:
        add("opt-out recorded", conv.opted_out == expect.opted_out, f"opted_out={conv.opted_out}")
    if expect.template_sent is not None:
        templates = [s.plan for s in sent if s.plan.verdict is SendVerdict.TEMPLATE]
        if isinstance(expect.template_sent, str):
            ok = any(p.purpose and p.purpose.value == expect.template_sent for p in templates)
        else:
            ok = bool(templates) == expect.template_sent
        add(f"template sent {expect.template_sent}", ok, f"{len(templates)} template(s)")
    if expect.cta_offered is not None:
        offered = bool(result and result.update.cta_state is CtaState.OFFERED)
        add("CTA offered", offered == expect.cta_offered, f"cta_state={conv.cta_state}")
    if expect.cta_state is not None:
        state = conv.cta_state.value if conv.cta_state else None
        add(f"cta_state {expect.cta_state}", state == expect.cta_state, f"cta_state={state}")
    if expect.needs_attention is not None:
        add(
            "needs attention",
            conv.needs_attention == expect.needs_attention,
            f"needs_attention={conv.needs_attention}",
        )
    if expect.script is not None:
        script = dominant_script(text, skip_quoted=True)
        add(f"script {expect.script}", script == expect.script, f"script {script}: {text[:80]!r}")
    if expect.language is not None:
        language = ""
        for step in result.steps if result else ():
            if step.stage == "eyes":
                language = str(step.output.get("language", ""))
        add(
            f"language {expect.language}",
            language.startswith(expect.language),
            f"language {language!r}",
        )
    if expect.max_words is not None:
        count = len(words(text))
        add(f"at most {expect.max_words} words", count <= expect.max_words, f"{count} words")
    return checks
