"""The ORM models, one module per table. Importing this package registers every table on
``Base.metadata`` (Alembic's autogenerate and the tests rely on that)."""

from funnel.core.db.base import Base
from funnel.core.models.api_key import ApiKey
from funnel.core.models.audit_log import AuditLog
from funnel.core.models.conversation import Conversation
from funnel.core.models.conversation_read_marker import ConversationReadMarker
from funnel.core.models.cta import Cta
from funnel.core.models.followup_sequence import FollowupSequence
from funnel.core.models.followup_step import FollowupStep
from funnel.core.models.invitation import Invitation
from funnel.core.models.knowledge_chunk import KnowledgeChunk
from funnel.core.models.knowledge_document import KnowledgeDocument
from funnel.core.models.lead import Lead
from funnel.core.models.lead_note import LeadNote
from funnel.core.models.login_attempt import LoginAttempt
from funnel.core.models.media_object import MediaObject
from funnel.core.models.membership import Membership
from funnel.core.models.message import Message
from funnel.core.models.message_status_event import MessageStatusEvent
from funnel.core.models.organisation import Organisation
from funnel.core.models.outbox import Outbox
from funnel.core.models.pipeline_run import PipelineRun
from funnel.core.models.pipeline_step import PipelineStep
from funnel.core.models.quick_reply import QuickReply
from funnel.core.models.refresh_token import RefreshToken
from funnel.core.models.scheduled_action import ScheduledAction
from funnel.core.models.template import Template
from funnel.core.models.user import User
from funnel.core.models.webhook_receipt import WebhookReceipt
from funnel.core.models.whatsapp_channel import WhatsAppChannel

__all__ = [
    "ApiKey",
    "AuditLog",
    "Base",
    "Conversation",
    "ConversationReadMarker",
    "Cta",
    "FollowupSequence",
    "FollowupStep",
    "Invitation",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "Lead",
    "LeadNote",
    "LoginAttempt",
    "MediaObject",
    "Membership",
    "Message",
    "MessageStatusEvent",
    "Organisation",
    "Outbox",
    "PipelineRun",
    "PipelineStep",
    "QuickReply",
    "RefreshToken",
    "ScheduledAction",
    "Template",
    "User",
    "WebhookReceipt",
    "WhatsAppChannel",
]

#: Tables scoped by ``organisation_id`` under row-level security (``organisations`` is scoped by
#: its own ``id``; ``users`` through memberships). The migration and the tests read this list.
TENANT_TABLES: tuple[str, ...] = tuple(
    sorted(
        table.name
        for table in Base.metadata.sorted_tables
        if "organisation_id" in table.c
        and not table.c.organisation_id.nullable
        and table.name != "organisations"
    )
)
