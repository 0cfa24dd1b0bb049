"""Typed contracts of the four stages: what each one sees and what it must return.

Two rules shape every output model here:

* **Salvage, don't crash.** A model that writes a plan one character over its limit, says
  ``"Qualifying"`` for a stage or ``0.95`` as a string is still usable. Over-long text is clipped
  at a word boundary and enum spellings are normalised *before* validation, so the limits stay in
  the JSON schema the model is shown but a near miss no longer costs the customer their reply
  (the original dropped the turn on any ``max_length`` overflow). Values that are really wrong
  (an action outside the closed set) still fail, and the stage's failure path takes over.
* **The prompt names exactly these fields.** ``tests/core/htl/test_prompts.py`` renders each
  prompt and checks its output section against these models, so the two cannot drift.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from funnel.core.htl.enums import (
    Action,
    ConversationMode,
    ConversationStage,
    CtaState,
    CtaType,
    CustomerIntent,
    IntentLevel,
    MessageAuthor,
    MessageKind,
    RiskLevel,
    Sentiment,
    TemplatePurpose,
    TurnTrigger,
)
from funnel.core.htl.text import clip

# --- limits -----------------------------------------------------------------------------------

#: WhatsApp's send limits (protocol doc §1.8).
TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
BUTTONS_MAX = 3
LIST_BUTTON_MAX = 20
LIST_TITLE_MAX = 24
LIST_ROW_ID_MAX = 200
LIST_DESCRIPTION_MAX = 72
LIST_ROWS_MAX = 10
CTA_DISPLAY_TEXT_MAX = 20

#: The rolling summary's hard cap: the prompt stays bounded however long the conversation is.
SUMMARY_MAX = 1500
PLAN_MAX = 1200
SITUATION_MAX = 600
REASON_MAX = 300
#: One stored message as the prompt shows it. A pasted essay cannot blow the token budget.
MESSAGE_TEXT_MAX = 2000


def _clipper(limit: int) -> Callable[[Any], Any]:
    def clip_value(value: Any) -> Any:
        if isinstance(value, str):
            return clip(value, limit)
        return value

    return clip_value


def _optional_clipper(limit: int) -> Callable[[Any], Any]:
    """Like :func:`_clipper`, and a blank string means "not given"."""

    def clip_value(value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return clip(value, limit) if value else None
        return value

    return clip_value


# Strings clipped to N characters before validation; the limit stays in the JSON schema.
Str20 = Annotated[str, BeforeValidator(_clipper(20)), Field(max_length=20)]
Str24 = Annotated[str, BeforeValidator(_clipper(24)), Field(max_length=24)]
Str200 = Annotated[str, BeforeValidator(_clipper(200)), Field(max_length=200)]
Str256 = Annotated[str, BeforeValidator(_clipper(256)), Field(max_length=256)]
Str300 = Annotated[str, BeforeValidator(_clipper(300)), Field(max_length=300)]
Str600 = Annotated[str, BeforeValidator(_clipper(600)), Field(max_length=600)]
Str1200 = Annotated[str, BeforeValidator(_clipper(1200)), Field(max_length=1200)]
Str1500 = Annotated[str, BeforeValidator(_clipper(1500)), Field(max_length=1500)]
Str2000 = Annotated[str, BeforeValidator(_clipper(2000)), Field(max_length=2000)]
Str4000 = Annotated[str, BeforeValidator(_clipper(4000)), Field(max_length=4000)]
Str4096 = Annotated[str, BeforeValidator(_clipper(4096)), Field(max_length=4096)]
OptStr20 = Annotated[
    Annotated[str, Field(max_length=20)] | None, BeforeValidator(_optional_clipper(20))
]
OptStr64 = Annotated[
    Annotated[str, Field(max_length=64)] | None, BeforeValidator(_optional_clipper(64))
]
OptStr72 = Annotated[
    Annotated[str, Field(max_length=72)] | None, BeforeValidator(_optional_clipper(72))
]
OptStr80 = Annotated[
    Annotated[str, Field(max_length=80)] | None, BeforeValidator(_optional_clipper(80))
]
OptStr120 = Annotated[
    Annotated[str, Field(max_length=120)] | None, BeforeValidator(_optional_clipper(120))
]
OptStr200 = Annotated[
    Annotated[str, Field(max_length=200)] | None, BeforeValidator(_optional_clipper(200))
]
OptStr300 = Annotated[
    Annotated[str, Field(max_length=300)] | None, BeforeValidator(_optional_clipper(300))
]
OptStr600 = Annotated[
    Annotated[str, Field(max_length=600)] | None, BeforeValidator(_optional_clipper(600))
]


def _list_clipper(limit: int) -> Callable[[Any], Any]:
    def clip_list(value: Any) -> Any:
        if isinstance(value, list):
            return value[:limit]
        return value

    return clip_list


def _clamp_unit(value: Any) -> Any:
    """Confidence as a number in [0, 1]; ``"0.8"`` and ``80`` (a percentage) are understood."""
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if number > 1.0:
            number = number / 100.0 if number <= 100.0 else 1.0
        return min(max(number, 0.0), 1.0)
    return value


Confidence = Annotated[float, BeforeValidator(_clamp_unit), Field(ge=0.0, le=1.0)]


def _enum_normaliser(
    enum_type: type[enum.StrEnum], aliases: dict[str, str], default: str | None = None
) -> Callable[[Any], Any]:
    """Lowercase, ``-``/space → ``_``, then aliases; optionally a default for unknown values.

    Kept as a safety net behind structured output (the original's ``normalize_enum``): strict
    response schemas make a miss rare, and a miss on a descriptive field must not cost the turn.
    Fields with no default (Brain's action) still fail on a value outside the set.
    """
    values = {member.value for member in enum_type}

    def normalise(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = re.sub(r"[\s\-]+", "_", value.strip().lower())
        key = aliases.get(key, key)
        if key in values:
            return key
        return default if default is not None else value

    return normalise


_STAGE_ALIASES = {
    "qualifying": "qualification",
    "qualify": "qualification",
    "discovery": "qualification",
    "price": "pricing",
    "negotiation": "pricing",
    "call_to_action": "cta",
    "close": "closed",
    "won": "closed",
    "ghost": "ghosted",
}
_ACTION_ALIASES = {
    "send_now": "respond",
    "send": "respond",
    "reply": "respond",
    "wait_schedule": "wait",
    "schedule": "wait",
    "schedule_followup": "wait",
    "handoff_human": "handoff",
    "flag_attention": "handoff",
    "escalate": "handoff",
    "cta": "initiate_cta",
    "template": "send_template",
    "no_reply": "ignore",
    "none": "ignore",
}
_SENTIMENT_ALIASES = {
    "negative": "annoyed",
    "frustrated": "annoyed",
    "angry": "annoyed",
    "happy": "positive",
    "excited": "positive",
    "suspicious": "distrustful",
    "sceptical": "distrustful",
    "skeptical": "distrustful",
}
_INTENT_ALIASES = {"very-high": "very_high", "veryhigh": "very_high", "none": "low"}
_RISK_ALIASES = {"none": "low", "med": "medium", "moderate": "medium"}

StageField = Annotated[
    ConversationStage, BeforeValidator(_enum_normaliser(ConversationStage, _STAGE_ALIASES))
]
ActionField = Annotated[Action, BeforeValidator(_enum_normaliser(Action, _ACTION_ALIASES))]
SentimentField = Annotated[
    Sentiment, BeforeValidator(_enum_normaliser(Sentiment, _SENTIMENT_ALIASES, "neutral"))
]
IntentLevelField = Annotated[
    IntentLevel, BeforeValidator(_enum_normaliser(IntentLevel, _INTENT_ALIASES, "unknown"))
]
RiskField = Annotated[
    RiskLevel, BeforeValidator(_enum_normaliser(RiskLevel, _RISK_ALIASES, "medium"))
]
CustomerIntentField = Annotated[
    CustomerIntent, BeforeValidator(_enum_normaliser(CustomerIntent, {}, "other"))
]
MessageKindField = Annotated[
    MessageKind,
    BeforeValidator(
        _enum_normaliser(
            MessageKind, {"buttons": "reply_buttons", "button": "reply_buttons", "url": "cta_url"}
        )
    ),
]

_BCP47 = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z]{4})?(?:-[A-Za-z]{2}|-\d{3})?$")


def _language_tag(value: Any) -> Any:
    """A BCP-47-ish tag; a malformed one degrades to ``und`` rather than failing the turn."""
    if not isinstance(value, str):
        return value
    tag = value.strip().replace("_", "-")
    parts = tag.split("-")
    if parts and parts[0]:
        parts[0] = parts[0].lower()
        parts[1:] = [p.title() if len(p) == 4 else p.upper() for p in parts[1:]]
        tag = "-".join(parts)
    return tag if _BCP47.match(tag) else "und"


LanguageTag = Annotated[str, BeforeValidator(_language_tag), Field(max_length=20)]


class _Output(BaseModel):
    """Model outputs ignore unknown keys: an extra field is noise, not a reason to drop a reply."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the turn's input -------------------------------------------------------------------------


class QuietHours(_Input):
    """Local times between which no follow-up is sent; may wrap midnight (21:00 → 09:00)."""

    start: time
    end: time


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r}") from exc
    return value


class OrgProfile(_Input):
    organisation_id: str = ""
    business_name: Annotated[str, Field(min_length=1, max_length=200)]
    business_description: Str2000 = ""
    #: The organisation's voice: who the bot is, its tone. Trusted, written by the operator.
    persona_prompt: Str4000 = ""
    #: The organisation's sales flow and rules. Trusted, but cannot extend the action set.
    flow_prompt: Str4000 = ""
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    #: Default reply language when the customer's own cannot be told (emoji-only first message).
    language: LanguageTag = "en"
    reply_word_limit: Annotated[int, Field(ge=10, le=500)] = 80
    #: Domains links in replies may point to (subdomains included), besides the CTAs' own URLs.
    allowed_link_domains: list[str] = Field(default_factory=list)
    #: Tell the customer a person will follow up when the conversation is handed off.
    handoff_notice: bool = True
    quiet_hours: QuietHours | None = None
    #: Template purposes this organisation has an approved template for (outside-window sends).
    template_purposes: frozenset[TemplatePurpose] = frozenset()


class CtaOption(_Input):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    type: CtaType = CtaType.CUSTOM
    label: Annotated[str, Field(min_length=1, max_length=120)]
    url: str | None = None
    active: bool = True


class ChatMessage(_Input):
    author: MessageAuthor
    text: Str2000
    at: AwareDatetime
    #: The id of the reply button or list row the customer tapped, when this was a tap.
    reply_id: str | None = None
    #: True for a reaction (👍 on one of our messages): never a reason to answer.
    reaction: bool = False


class LeadFacts(_Output):
    name: OptStr120 = None
    email: OptStr200 = None
    company: OptStr200 = None
    needs: Annotated[list[Str200], BeforeValidator(_list_clipper(8))] = Field(
        default_factory=list, max_length=8
    )

    def merged(self, newer: LeadFacts) -> LeadFacts:
        """Newer values win; a fact the newer summary forgot is kept, needs are unioned."""
        needs = list(dict.fromkeys([*self.needs, *newer.needs]))[-8:]
        return LeadFacts(
            name=newer.name or self.name,
            email=newer.email or self.email,
            company=newer.company or self.company,
            needs=needs,
        )


class ConversationState(_Input):
    mode: ConversationMode = ConversationMode.BOT
    stage: ConversationStage = ConversationStage.GREETING
    intent_level: IntentLevel = IntentLevel.UNKNOWN
    sentiment: Sentiment = Sentiment.NEUTRAL
    cta_id: str | None = None
    cta_state: CtaState | None = None
    rolling_summary: Str1500 = ""
    lead_facts: LeadFacts = Field(default_factory=LeadFacts)
    opted_out: bool = False
    needs_attention: bool = False
    followup_count_24h: Annotated[int, Field(ge=0)] = 0
    total_nudges: Annotated[int, Field(ge=0)] = 0
    #: The 24-hour customer-service window, computed from the customer's own timestamps.
    window_open: bool = True
    window_closes_at: AwareDatetime | None = None


class TurnContext(_Input):
    """Everything a turn's stages may see. Built once per turn by the caller."""

    org: OrgProfile
    state: ConversationState = Field(default_factory=ConversationState)
    #: The organisation's CTAs as loaded; inactive ones are kept so a stale id can be explained.
    ctas: list[CtaOption] = Field(default_factory=list)
    #: Earlier messages, oldest first, already cut to the token budget (see ``context``).
    history: list[ChatMessage] = Field(default_factory=list)
    #: The customer's new messages this turn: one, or a debounced burst. Empty on a follow-up.
    new_messages: list[ChatMessage] = Field(default_factory=list)
    trigger: TurnTrigger = TurnTrigger.CUSTOMER
    #: On a follow-up turn, what this nudge should be about: the sequence step's
    #: ``message_hint`` (written by the organisation), or the plan Brain gave when it chose to wait.
    followup_hint: OptStr600 = None
    now: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def local_now(self) -> datetime:
        """Now in the organisation's timezone (the original passed UTC and called it local)."""
        return self.now.astimezone(ZoneInfo(self.org.timezone))

    @property
    def active_ctas(self) -> list[CtaOption]:
        return [cta for cta in self.ctas if cta.active]

    def cta(self, cta_id: str | None) -> CtaOption | None:
        """The *active* CTA with this id, or ``None``."""
        if cta_id is None:
            return None
        return next((c for c in self.active_ctas if c.id == cta_id), None)

    @property
    def customer_text(self) -> str:
        """The new customer messages joined: what this turn is about."""
        return "\n".join(m.text for m in self.new_messages if m.author is MessageAuthor.LEAD)


# --- Eyes -------------------------------------------------------------------------------------


class RiskFlags(_Output):
    spam: RiskField = RiskLevel.LOW
    policy: RiskField = RiskLevel.LOW
    hallucination_risk: RiskField = RiskLevel.LOW
    prompt_injection: bool = False


class EyesOutput(_Output):
    intent: CustomerIntentField
    intent_level: IntentLevelField
    sentiment: SentimentField
    risk_flags: RiskFlags = Field(default_factory=RiskFlags)
    language: LanguageTag = "und"
    knowledge_needed: bool = False
    knowledge_topic: OptStr80 = None
    search_query: OptStr300 = None
    situation_summary: Str600 = ""
    confidence: Confidence = 0.5


# --- retrieval --------------------------------------------------------------------------------


class RetrievedChunk(_Input):
    chunk_id: str
    document_id: str = ""
    document_title: str = ""
    text: str
    score: float


#: Fused scores below this mean the knowledge base has nothing reliable to say.
DEFAULT_GROUNDING_THRESHOLD = 0.3


class Retrieval(_Input):
    """What RAG found. ``grounded`` false means "no grounding": state no facts from it."""

    query: str = ""
    chunks: list[RetrievedChunk] = Field(default_factory=list)
    grounded: bool = False
    threshold: float = DEFAULT_GROUNDING_THRESHOLD
    #: False when retrieval was not run (Eyes said no knowledge was needed).
    attempted: bool = False

    @classmethod
    def skipped(cls) -> Retrieval:
        return cls()

    @classmethod
    def from_chunks(
        cls,
        query: str,
        chunks: list[RetrievedChunk],
        threshold: float = DEFAULT_GROUNDING_THRESHOLD,
    ) -> Retrieval:
        ordered = sorted(chunks, key=lambda c: c.score, reverse=True)
        grounded = bool(ordered) and ordered[0].score >= threshold
        return cls(
            query=query, chunks=ordered, grounded=grounded, threshold=threshold, attempted=True
        )

    @property
    def usable_chunks(self) -> list[RetrievedChunk]:
        """The chunks a reply may state facts from: at or above the threshold."""
        return [c for c in self.chunks if c.score >= self.threshold] if self.grounded else []


# --- Brain ------------------------------------------------------------------------------------


def _optional_minutes(value: Any) -> Any:
    if value in ("", None):
        return None
    if isinstance(value, float):
        return round(value)
    return value


class BrainOutput(_Output):
    action: ActionField
    new_stage: StageField
    plan: Str1200 = ""
    cta_id: OptStr64 = None
    template_purpose: Annotated[
        TemplatePurpose | None,
        BeforeValidator(lambda v: None if v in ("", "none", "null") else v),
    ] = None
    followup_delay_minutes: Annotated[
        Annotated[int, Field(ge=0)] | None, BeforeValidator(_optional_minutes)
    ] = None
    needs_attention: bool = False
    attention_reason: OptStr300 = None
    confidence: Confidence = 0.5


# --- Mouth ------------------------------------------------------------------------------------


class ReplyButton(_Output):
    id: Str256
    title: Str20


class ListRow(_Output):
    id: Str200
    title: Str24
    description: OptStr72 = None


class CtaUrl(_Output):
    display_text: Str20
    url: Str2000


class SelfCheck(_Output):
    #: Factual statements in the reply, each traceable to the knowledge or a CTA.
    grounded_claims: Annotated[list[Str300], BeforeValidator(_list_clipper(10))] = Field(
        default_factory=list
    )
    #: Rules the model believes its own reply breaks (empty when it believes none).
    violations: Annotated[list[Str300], BeforeValidator(_list_clipper(10))] = Field(
        default_factory=list
    )


class MouthOutput(_Output):
    kind: MessageKindField = MessageKind.TEXT
    #: The message text; the body of an interactive message.
    text: Str4096
    buttons: Annotated[list[ReplyButton], BeforeValidator(_list_clipper(BUTTONS_MAX))] = Field(
        default_factory=list, max_length=BUTTONS_MAX
    )
    list_button: OptStr20 = None
    list_rows: Annotated[list[ListRow], BeforeValidator(_list_clipper(LIST_ROWS_MAX))] = Field(
        default_factory=list, max_length=LIST_ROWS_MAX
    )
    cta_url: CtaUrl | None = None
    language: LanguageTag = "und"
    self_check: SelfCheck = Field(default_factory=SelfCheck)

    @model_validator(mode="after")
    def _kind_has_its_parts(self) -> MouthOutput:
        """An interactive kind without its parts degrades to plain text rather than failing.

        The text still carries the message; losing the buttons is better than losing the reply.
        """
        missing = (
            (self.kind is MessageKind.REPLY_BUTTONS and not self.buttons)
            or (self.kind is MessageKind.LIST and not self.list_rows)
            or (self.kind is MessageKind.CTA_URL and self.cta_url is None)
        )
        if missing:
            self.kind = MessageKind.TEXT
        return self


# --- Memory -----------------------------------------------------------------------------------


class Exchange(_Input):
    """What happened since the summary was last updated: the customer's, the bot's, human
    agents' and follow-up messages alike, plus what the pipeline decided."""

    messages: list[ChatMessage] = Field(default_factory=list)
    action: Action | None = None
    stage: ConversationStage | None = None


class MemoryOutput(_Output):
    rolling_summary: Str1500
    lead_facts: LeadFacts = Field(default_factory=LeadFacts)
    changes: Str300 = ""

    @field_validator("rolling_summary")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # An empty summary would silently erase the conversation's memory: treat it as a failed
        # output so the stage keeps the old one.
        if not value.strip():
            raise ValueError("rolling_summary is empty")
        return value
