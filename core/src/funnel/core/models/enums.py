"""Every enumerated column's values.

Stored as lowercase VARCHAR with a CHECK constraint (see :func:`funnel.core.db.base.enum_type`),
never as native PostgreSQL ENUM types: adding a value is then one ``ALTER TABLE … CHECK`` in a
migration instead of ``ALTER TYPE`` gymnastics, and the stored text is the member *value*, so the
uppercase/lowercase mismatch the original system needed six repair scripts for cannot happen.
"""

from __future__ import annotations

import enum


class MembershipRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class ConversationMode(enum.StrEnum):
    BOT = "bot"
    HUMAN = "human"
    CLOSED = "closed"


class ConversationStage(enum.StrEnum):
    GREETING = "greeting"
    QUALIFICATION = "qualification"
    PRICING = "pricing"
    CTA = "cta"
    CLOSED = "closed"
    LOST = "lost"
    GHOSTED = "ghosted"


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


class OptOutSource(enum.StrEnum):
    #: The customer wrote STOP (or a localised equivalent).
    KEYWORD = "keyword"
    #: An operator marked the lead do-not-contact.
    AGENT = "agent"
    API = "api"
    #: Meta told us (error 131050: the user stopped marketing messages).
    META = "meta"


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


class MessageDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageAuthor(enum.StrEnum):
    LEAD = "lead"
    BOT = "bot"
    HUMAN = "human"
    SYSTEM = "system"


class MessageType(enum.StrEnum):
    """WhatsApp Cloud API message types, plus ``system`` for our own timeline entries."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    ORDER = "order"
    TEMPLATE = "template"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    RECEIVED = "received"


class TemplateCategory(enum.StrEnum):
    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


class TemplateStatus(enum.StrEnum):
    """``draft`` is ours; the rest are Meta's statuses, lowercased.

    An unknown status from Meta must be mapped by the sync code (to ``flagged`` or kept as the
    previous value), never written raw: the original crashed on statuses outside its enum.
    """

    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAUSED = "paused"
    DISABLED = "disabled"
    IN_APPEAL = "in_appeal"
    PENDING_DELETION = "pending_deletion"
    DELETED = "deleted"
    LIMIT_EXCEEDED = "limit_exceeded"
    ARCHIVED = "archived"
    FLAGGED = "flagged"


class TemplateParameterFormat(enum.StrEnum):
    POSITIONAL = "positional"
    NAMED = "named"


class TemplatePurpose(enum.StrEnum):
    """What the send planner may use a template for when the 24-hour window is closed."""

    FOLLOWUP = "followup"
    REENGAGEMENT = "reengagement"
    CTA = "cta"
    HANDOFF = "handoff"
    CUSTOM = "custom"


class FollowupTrigger(enum.StrEnum):
    #: The lead has not answered the last outbound message.
    NO_REPLY = "no_reply"
    #: A CTA was offered and not taken up.
    CTA_PENDING = "cta_pending"
    #: Started by an operator.
    MANUAL = "manual"


class ScheduledActionKind(enum.StrEnum):
    FOLLOWUP = "followup"
    WAIT_RESUME = "wait_resume"
    AUTO_RELEASE = "auto_release"
    TEMPLATE_FALLBACK = "template_fallback"
    ATTENTION_ESCALATION = "attention_escalation"


class ScheduledActionStatus(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


class OutboxKind(enum.StrEnum):
    #: ``POST /{phone_number_id}/messages`` with a session message (text, media, interactive).
    MESSAGE = "message"
    #: The same endpoint with ``type=template``: allowed outside the 24-hour window.
    TEMPLATE = "template"
    #: ``status=read`` (and the typing indicator) for an inbound message.
    MARK_READ = "mark_read"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    #: Failed, will be retried at ``next_attempt_at``.
    FAILED = "failed"
    #: Failed permanently, or out of attempts. Never retried automatically.
    DEAD = "dead"


class KnowledgeDocumentType(enum.StrEnum):
    PDF = "pdf"
    MARKDOWN = "markdown"
    TEXT = "text"


class KnowledgeDocumentStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class PipelineRunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: Nothing to do (human mode, opted out, superseded by a newer burst).
    SKIPPED = "skipped"


class PipelineStage(enum.StrEnum):
    EYES = "eyes"
    RAG = "rag"
    BRAIN = "brain"
    POLICY = "policy"
    MOUTH = "mouth"
    MEMORY = "memory"


class ActorKind(enum.StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
