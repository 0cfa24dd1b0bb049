"""The pipeline's closed vocabularies.

The conversation-level enums mirror :mod:`funnel.core.models.enums` value for value (a test keeps
them in step). They are declared here rather than imported because ``funnel.core.models``
imports SQLAlchemy on package import, and the pipeline's domain logic must stay importable and
testable without the database layer (the API's dry-run and the offline demo run it too). Both
sides are ``StrEnum``s, so a value from one compares equal to the same value from the other and
validates into either.
"""

from __future__ import annotations

import enum


class ConversationStage(enum.StrEnum):
    GREETING = "greeting"
    QUALIFICATION = "qualification"
    PRICING = "pricing"
    CTA = "cta"
    CLOSED = "closed"
    LOST = "lost"
    GHOSTED = "ghosted"


class ConversationMode(enum.StrEnum):
    BOT = "bot"
    HUMAN = "human"
    CLOSED = "closed"


class IntentLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"
    UNKNOWN = "unknown"


class Sentiment(enum.StrEnum):
    ANNOYED = "annoyed"
    DISTRUSTFUL = "distrustful"
    CONFUSED = "confused"
    CURIOUS = "curious"
    DISAPPOINTED = "disappointed"
    NEUTRAL = "neutral"
    UNINTERESTED = "uninterested"
    POSITIVE = "positive"


class MessageAuthor(enum.StrEnum):
    LEAD = "lead"
    BOT = "bot"
    HUMAN = "human"
    SYSTEM = "system"


class CtaType(enum.StrEnum):
    BOOK_CALL = "book_call"
    BOOK_DEMO = "book_demo"
    SEND_LINK = "send_link"
    VISIT = "visit"
    CUSTOM = "custom"


class CtaState(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DISMISSED = "dismissed"
    EXPIRED = "expired"


class TemplatePurpose(enum.StrEnum):
    FOLLOWUP = "followup"
    REENGAGEMENT = "reengagement"
    CTA = "cta"
    HANDOFF = "handoff"
    CUSTOM = "custom"


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class CustomerIntent(enum.StrEnum):
    """What the customer is doing this turn (Eyes). Generic on purpose: no tenant's domain."""

    GREETING = "greeting"
    QUESTION = "question"
    PRICING = "pricing"
    PURCHASE = "purchase"
    CTA_RESPONSE = "cta_response"
    HUMAN_REQUEST = "human_request"
    COMPLAINT = "complaint"
    OPT_OUT = "opt_out"
    NOT_INTERESTED = "not_interested"
    ACKNOWLEDGEMENT = "acknowledgement"
    SMALL_TALK = "small_talk"
    OTHER = "other"


class Action(enum.StrEnum):
    """Brain's closed action set. Each one has an effect downstream; none is decorative."""

    RESPOND = "respond"
    WAIT = "wait"
    HANDOFF = "handoff"
    INITIATE_CTA = "initiate_cta"
    SEND_TEMPLATE = "send_template"
    IGNORE = "ignore"


class MessageKind(enum.StrEnum):
    TEXT = "text"
    REPLY_BUTTONS = "reply_buttons"
    LIST = "list"
    CTA_URL = "cta_url"


class TurnTrigger(enum.StrEnum):
    #: New customer messages arrived (one, or a debounced burst).
    CUSTOMER = "customer"
    #: A scheduled follow-up or a ``wait`` decision came due: no new customer text.
    FOLLOWUP = "followup"
