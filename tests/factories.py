"""Test data: plain async factory functions.

Each takes the session and the parents it needs, fills every required field with a unique,
valid value, accepts any column as a keyword override, adds the object and flushes (so ids and
server defaults are there), and returns it. None commits: the test (or the code under test) does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import (
    Conversation,
    Cta,
    KnowledgeChunk,
    KnowledgeDocument,
    Lead,
    Membership,
    Message,
    Organisation,
    Template,
    User,
    WhatsAppChannel,
)
from funnel.core.models.enums import (
    CtaType,
    KnowledgeDocumentType,
    MembershipRole,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    TemplateCategory,
)
from funnel.core.security.crypto import SecretBox, last4
from funnel.core.security.passwords import hash_password

#: The key test channels are encrypted with; tests that decrypt use the same box.
TEST_ENCRYPTION_KEY = "test-encryption-key"
test_box = SecretBox([TEST_ENCRYPTION_KEY])

_sequence = itertools.count(1)


def _n() -> int:
    return next(_sequence)


def _unique_digits(length: int) -> str:
    return str(random.randrange(10 ** (length - 1), 10**length))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _save(session: AsyncSession, obj: Any) -> Any:
    session.add(obj)
    await session.flush()
    return obj


async def make_organisation(session: AsyncSession, **overrides: Any) -> Organisation:
    n = _n()
    values: dict[str, Any] = {
        "name": f"Organisation {n}",
        "slug": f"org-{n}-{uuid.uuid4().hex[:8]}",
        "business_name": f"Business {n}",
        **overrides,
    }
    organisation: Organisation = await _save(session, Organisation(**values))
    return organisation


async def make_user(
    session: AsyncSession, *, password: str | None = None, **overrides: Any
) -> User:
    n = _n()
    values: dict[str, Any] = {
        "email": f"user{n}-{uuid.uuid4().hex[:8]}@example.com",
        "name": f"User {n}",
        "password_hash": hash_password(password) if password is not None else None,
        **overrides,
    }
    user: User = await _save(session, User(**values))
    return user


async def make_membership(
    session: AsyncSession,
    organisation: Organisation,
    user: User,
    role: MembershipRole = MembershipRole.AGENT,
) -> Membership:
    membership: Membership = await _save(
        session, Membership(organisation_id=organisation.id, user_id=user.id, role=role)
    )
    return membership


async def make_channel(
    session: AsyncSession,
    organisation: Organisation,
    *,
    access_token: str = "test-access-token",  # noqa: S107
    app_secret: str = "test-app-secret",  # noqa: S107
    verify_token: str = "test-verify-token",  # noqa: S107
    box: SecretBox = test_box,
    **overrides: Any,
) -> WhatsAppChannel:
    values: dict[str, Any] = {
        "organisation_id": organisation.id,
        "phone_number_id": _unique_digits(15),
        "waba_id": _unique_digits(15),
        "display_phone_number": _unique_digits(11),
        "access_token_encrypted": box.encrypt(access_token),
        "access_token_last4": last4(access_token),
        "app_secrets_encrypted": [box.encrypt(app_secret)],
        "app_secret_last4": last4(app_secret),
        "verify_token_encrypted": box.encrypt(verify_token),
        "verify_token_last4": last4(verify_token),
        "is_connected": True,
        **overrides,
    }
    channel: WhatsAppChannel = await _save(session, WhatsAppChannel(**values))
    return channel


async def make_lead(session: AsyncSession, channel: WhatsAppChannel, **overrides: Any) -> Lead:
    values: dict[str, Any] = {
        "organisation_id": channel.organisation_id,
        "channel_id": channel.id,
        "wa_id": "91" + _unique_digits(10),
        "name": f"Lead {_n()}",
        **overrides,
    }
    lead: Lead = await _save(session, Lead(**values))
    return lead


async def make_conversation(session: AsyncSession, lead: Lead, **overrides: Any) -> Conversation:
    values: dict[str, Any] = {
        "organisation_id": lead.organisation_id,
        "lead_id": lead.id,
        "channel_id": lead.channel_id,
        **overrides,
    }
    conversation: Conversation = await _save(session, Conversation(**values))
    return conversation


async def make_message(
    session: AsyncSession, conversation: Conversation, **overrides: Any
) -> Message:
    """An inbound text message by default, with a fresh wamid."""
    values: dict[str, Any] = {
        "organisation_id": conversation.organisation_id,
        "conversation_id": conversation.id,
        "lead_id": conversation.lead_id,
        "direction": MessageDirection.INBOUND,
        "author": MessageAuthor.LEAD,
        "text": f"hello {_n()}",
        "wamid": f"wamid.{uuid.uuid4().hex}",
        "whatsapp_timestamp": now(),
        "status": MessageStatus.RECEIVED,
        **overrides,
    }
    message: Message = await _save(session, Message(**values))
    return message


async def make_cta(session: AsyncSession, organisation: Organisation, **overrides: Any) -> Cta:
    values: dict[str, Any] = {
        "organisation_id": organisation.id,
        "type": CtaType.SEND_LINK,
        "name": f"CTA {_n()}",
        "url": "https://example.com/catalogue",
        "button_text": "Open",
        **overrides,
    }
    cta: Cta = await _save(session, Cta(**values))
    return cta


async def make_template(
    session: AsyncSession, organisation: Organisation, **overrides: Any
) -> Template:
    values: dict[str, Any] = {
        "organisation_id": organisation.id,
        "name": f"template_{_n()}",
        "language": "en",
        "category": TemplateCategory.UTILITY,
        "components": [{"type": "BODY", "text": "Hello {{1}}"}],
        **overrides,
    }
    template: Template = await _save(session, Template(**values))
    return template


async def make_knowledge_document(
    session: AsyncSession, organisation: Organisation, **overrides: Any
) -> KnowledgeDocument:
    values: dict[str, Any] = {
        "organisation_id": organisation.id,
        "title": f"Document {_n()}",
        "doc_type": KnowledgeDocumentType.MARKDOWN,
        "checksum_sha256": uuid.uuid4().hex * 2,
        "size_bytes": 0,
        **overrides,
    }
    document: KnowledgeDocument = await _save(session, KnowledgeDocument(**values))
    return document


async def make_knowledge_chunk(
    session: AsyncSession, document: KnowledgeDocument, **overrides: Any
) -> KnowledgeChunk:
    values: dict[str, Any] = {
        "organisation_id": document.organisation_id,
        "document_id": document.id,
        "ordinal": _n(),
        "content": "Free shipping on orders above 799 rupees.",
        **overrides,
    }
    chunk: KnowledgeChunk = await _save(session, KnowledgeChunk(**values))
    return chunk
