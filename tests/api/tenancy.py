"""Objects of "organisation A" for the cross-tenant matrix, by the name that refers to them.

The matrix (``test_tenancy_matrix.py``) walks every REST route and every GraphQL query/mutation
argument that takes an object id, asks this registry for one of organisation A's objects of that
kind, and calls with organisation B's owner: the answer must be 404 (or 403), never data. A path
parameter or GraphQL id argument with no entry here fails the matrix, so a new route cannot skip
it. Add an entry by writing an ``async def (world) -> uuid.UUID`` and registering it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import (
    Conversation,
    FollowupSequence,
    FollowupStep,
    Lead,
    Organisation,
    QuickReply,
    WhatsAppChannel,
)
from tests import factories
from tests.api.conftest import Tenant


@dataclasses.dataclass
class World:
    """Organisation A, seen by the factories: its owner over HTTP and an unscoped session."""

    client: httpx.AsyncClient
    app: FastAPI
    a: Tenant
    _cache: dict[str, uuid.UUID] = dataclasses.field(default_factory=dict)
    _rows: dict[str, Any] = dataclasses.field(default_factory=dict)

    async def get(self, kind: str) -> uuid.UUID:
        if kind not in self._cache:
            factory = OBJECT_FACTORIES.get(kind)
            if factory is None:
                raise LookupError(kind)
            self._cache[kind] = await factory(self)
        return self._cache[kind]

    async def session(self) -> AsyncSession:
        session: AsyncSession = self.app.state.resources.sessionmaker()
        return session

    async def organisation(self, session: AsyncSession) -> Organisation:
        organisation = await session.get(Organisation, self.a.organisation_id)
        assert organisation is not None
        return organisation

    async def row(self, kind: str, build: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        """Create (once) and commit a row of organisation A directly in the database."""
        if kind not in self._rows:
            async with self.app.state.resources.sessionmaker() as session:
                self._rows[kind] = await build(session)
                await session.commit()
        return self._rows[kind]


Factory = Callable[[World], Awaitable[uuid.UUID]]


async def _user(world: World) -> uuid.UUID:
    return world.a.owner.user_id


async def _invitation(world: World) -> uuid.UUID:
    response = await world.client.post(
        "/users/invitations",
        json={"email": f"matrix-{uuid.uuid4().hex[:6]}@example.com", "role": "viewer"},
        headers=world.a.owner.headers,
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _api_key(world: World) -> uuid.UUID:
    response = await world.client.post(
        "/settings/api-keys", json={"name": "matrix", "scopes": []}, headers=world.a.owner.headers
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _channel_row(world: World) -> WhatsAppChannel:
    async def build(session: AsyncSession) -> WhatsAppChannel:
        return await factories.make_channel(session, await world.organisation(session))

    channel: WhatsAppChannel = await world.row("channel", build)
    return channel


async def _channel(world: World) -> uuid.UUID:
    return (await _channel_row(world)).id


async def _lead_row(world: World) -> Lead:
    channel = await _channel_row(world)

    async def build(session: AsyncSession) -> Lead:
        return await factories.make_lead(session, channel)

    lead: Lead = await world.row("lead", build)
    return lead


async def _lead(world: World) -> uuid.UUID:
    return (await _lead_row(world)).id


async def _conversation_row(world: World) -> Conversation:
    lead = await _lead_row(world)

    async def build(session: AsyncSession) -> Conversation:
        return await factories.make_conversation(session, lead)

    conversation: Conversation = await world.row("conversation", build)
    return conversation


async def _conversation(world: World) -> uuid.UUID:
    return (await _conversation_row(world)).id


async def _message(world: World) -> uuid.UUID:
    conversation = await _conversation_row(world)

    async def build(session: AsyncSession) -> Any:
        return await factories.make_message(session, conversation)

    return (await world.row("message", build)).id  # type: ignore[no-any-return]


async def _cta(world: World) -> uuid.UUID:
    async def build(session: AsyncSession) -> Any:
        return await factories.make_cta(session, await world.organisation(session))

    return (await world.row("cta", build)).id  # type: ignore[no-any-return]


async def _template(world: World) -> uuid.UUID:
    async def build(session: AsyncSession) -> Any:
        return await factories.make_template(session, await world.organisation(session))

    return (await world.row("template", build)).id  # type: ignore[no-any-return]


async def _knowledge_document(world: World) -> uuid.UUID:
    async def build(session: AsyncSession) -> Any:
        return await factories.make_knowledge_document(session, await world.organisation(session))

    return (await world.row("knowledge_document", build)).id  # type: ignore[no-any-return]


async def _followup_sequence(world: World) -> uuid.UUID:
    async def build(session: AsyncSession) -> Any:
        organisation = await world.organisation(session)
        sequence = FollowupSequence(organisation_id=organisation.id, name="Tenancy nudges")
        session.add(sequence)
        await session.flush()
        session.add(
            FollowupStep(
                organisation_id=organisation.id,
                sequence_id=sequence.id,
                position=1,
                delay_minutes=60,
                message_hint="Check in",
            )
        )
        return sequence

    return (await world.row("followup_sequence", build)).id  # type: ignore[no-any-return]


async def _quick_reply(world: World) -> uuid.UUID:
    async def build(session: AsyncSession) -> Any:
        organisation = await world.organisation(session)
        quick_reply = QuickReply(
            organisation_id=organisation.id, title="Opening hours", text="9 am to 7 pm"
        )
        session.add(quick_reply)
        await session.flush()
        return quick_reply

    return (await world.row("quick_reply", build)).id  # type: ignore[no-any-return]


#: Path parameter names (REST) and GraphQL id argument kinds → how to make one in organisation A.
OBJECT_FACTORIES: dict[str, Factory] = {
    "user_id": _user,
    "invitation_id": _invitation,
    "api_key_id": _api_key,
    "channel_id": _channel,
    "lead_id": _lead,
    "conversation_id": _conversation,
    "message_id": _message,
    "cta_id": _cta,
    "template_id": _template,
    "document_id": _knowledge_document,
    "sequence_id": _followup_sequence,
    "quick_reply_id": _quick_reply,
}

#: GraphQL arguments that take an object id: ``"Type.field.argument"`` → a kind above. Subscription
#: arguments are covered by the subscription tests (they filter events, they return no rows).
GRAPHQL_ID_ARGUMENTS: dict[str, str] = {
    "Query.channel.id": "channel_id",
    "Mutation.updateChannel.id": "channel_id",
    "Mutation.rotateChannelAppSecret.id": "channel_id",
    "Mutation.disconnectChannel.id": "channel_id",
    "Query.followupSequence.id": "sequence_id",
    "Mutation.replaceFollowupSequence.id": "sequence_id",
    "Mutation.deleteFollowupSequence.id": "sequence_id",
    "Query.user.id": "user_id",
    "Mutation.changeUserRole.userId": "user_id",
    "Mutation.deactivateUser.userId": "user_id",
    "Query.conversation.id": "conversation_id",
    "Query.message.id": "message_id",
    "Mutation.takeover.conversationId": "conversation_id",
    "Mutation.release.conversationId": "conversation_id",
    "Mutation.assign.conversationId": "conversation_id",
    "Mutation.assign.userId": "user_id",
    "Mutation.close.conversationId": "conversation_id",
    "Mutation.resolveAttention.conversationId": "conversation_id",
    "Mutation.startFollowups.conversationId": "conversation_id",
    "Mutation.startFollowups.sequenceId": "sequence_id",
    "Mutation.markConversationRead.conversationId": "conversation_id",
    "Query.lead.id": "lead_id",
    "Mutation.updateLead.id": "lead_id",
    "Mutation.optOutLead.id": "lead_id",
    "Mutation.tagLead.id": "lead_id",
    "Mutation.addLeadNote.id": "lead_id",
    "Mutation.eraseLead.id": "lead_id",
    "Mutation.sendMessage.conversationId": "conversation_id",
    "Mutation.sendMessage.templateId": "template_id",
    "Query.template.id": "template_id",
    "Mutation.updateTemplate.id": "template_id",
    "Mutation.submitTemplate.id": "template_id",
    "Mutation.resubmitTemplate.id": "template_id",
    "Mutation.deleteTemplate.id": "template_id",
    "Query.cta.id": "cta_id",
    "Mutation.updateCta.id": "cta_id",
    "Mutation.setCtaActive.id": "cta_id",
    "Mutation.deleteCta.id": "cta_id",
    "Query.knowledgeDocument.id": "document_id",
    "Mutation.deleteKnowledgeDocument.id": "document_id",
    "Mutation.revokeInvitation.id": "invitation_id",
    "Mutation.sendMedia.conversationId": "conversation_id",
    "Mutation.sendList.conversationId": "conversation_id",
    "Mutation.sendTemplate.conversationId": "conversation_id",
    "Mutation.sendTemplate.templateId": "template_id",
    "Mutation.updateQuickReply.id": "quick_reply_id",
    "Mutation.deleteQuickReply.id": "quick_reply_id",
}
