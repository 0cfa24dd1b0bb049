"""Connecting WhatsApp numbers.

Credentials are checked against the Graph API before anything is stored (the original stored
whatever it was given and marked it connected). Secrets are encrypted with
:class:`funnel.core.security.crypto.SecretBox` and never leave this module in clear: reads return
:class:`ChannelRead`, which has the last four characters only, and audit rows record that a
secret changed, not its value.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable

import sqlalchemy.exc
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.channels.repository import ChannelRepository, all_channels
from funnel.core.channels.schemas import (
    AppSecretRotate,
    ChannelConnect,
    ChannelCredentialsUpdate,
    ChannelRead,
    InternalChannel,
    InternalChannelList,
)
from funnel.core.errors import Conflict, NotFound, UpstreamFailed, ValidationFailed
from funnel.core.models import WhatsAppChannel
from funnel.core.security.crypto import SecretBox, last4
from funnel.core.whatsapp.errors import GraphError, GraphTimeoutError, GraphTransportError
from funnel.core.whatsapp.graph import GraphClient
from funnel.core.whatsapp.graph_models import PhoneNumberInfo

#: Builds a Graph client for a token and number (the API passes one over its shared httpx client
#: and the configured base URL, so tests point it at the sandbox).
GraphFactory = Callable[[SecretStr, str, str, str | None], GraphClient]

#: The current secret and the one before it: enough for a rotation, no long tail of old ones.
MAX_APP_SECRETS = 2


def to_read(channel: WhatsAppChannel) -> ChannelRead:
    return ChannelRead(
        id=channel.id,
        name=channel.name,
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        display_phone_number=channel.display_phone_number,
        graph_version=channel.graph_version,
        is_connected=channel.is_connected,
        paused_reason=channel.paused_reason,
        access_token_last4=channel.access_token_last4,
        app_secret_last4=channel.app_secret_last4,
        app_secrets_active=len(channel.app_secrets_encrypted or []),
        verify_token_last4=channel.verify_token_last4,
        messages_per_second=channel.messages_per_second,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _meta_explanation(exc: GraphError) -> str:
    """Meta's own words for a refusal, for the person who pasted the token: its message (the
    user-facing one when it sent one) and the details when they add to it. Not ``str(exc)``,
    which is for logs: codes, HTTP status, trace id, and a title guessed from the code that can
    contradict Meta (code 190 is titled "expired" for a token that is simply wrong)."""
    if exc.details and exc.details not in exc.message:
        return f"{exc.message} ({exc.details})"
    return exc.message


async def check_credentials(
    graph_factory: GraphFactory,
    token: SecretStr,
    phone_number_id: str,
    waba_id: str,
    version: str | None,
) -> PhoneNumberInfo:
    """Ask Meta for the number with this token: proves the token is valid and the two belong
    together. Meta's error (code and text, never the request) goes back to the caller."""
    client = graph_factory(token, phone_number_id, waba_id, version)
    try:
        info = await client.get_phone_number()
    except (GraphTimeoutError, GraphTransportError) as exc:
        raise UpstreamFailed("the WhatsApp Graph API did not answer; try again") from exc
    except GraphError as exc:
        raise ValidationFailed(
            "WhatsApp rejected these credentials",
            details={
                "credentials": "rejected",
                "graph_code": exc.code,
                "graph_message": _meta_explanation(exc)[:300],
            },
        ) from exc
    if info.id and info.id != phone_number_id:
        raise ValidationFailed(
            "the access token does not belong to this phone number id",
            details={"credentials": "mismatch"},
        )
    return info


async def list_channels(session: AsyncSession) -> list[ChannelRead]:
    return [to_read(c) for c in await ChannelRepository.scoped(session).list()]


async def get_channel(session: AsyncSession, channel_id: uuid.UUID) -> WhatsAppChannel:
    channel = await ChannelRepository.scoped(session).get_by_id(channel_id)
    if channel is None:
        raise NotFound("channel not found")
    return channel


async def connect(
    session: AsyncSession,
    box: SecretBox,
    graph_factory: GraphFactory,
    actor: Actor,
    request: ChannelConnect,
    *,
    default_version: str,
) -> ChannelRead:
    version = request.graph_version or default_version
    info = await check_credentials(
        graph_factory, request.access_token, request.phone_number_id, request.waba_id, version
    )
    channels = ChannelRepository.scoped(session)
    access_token = request.access_token.get_secret_value()
    app_secret = request.app_secret.get_secret_value()
    verify_token = request.verify_token.get_secret_value()
    channel = await channels.get_by_phone_number_id(request.phone_number_id)
    created = channel is None
    if channel is None:
        channel = WhatsAppChannel(phone_number_id=request.phone_number_id)
    channel.name = request.name if request.name is not None else channel.name
    channel.waba_id = request.waba_id
    channel.graph_version = version
    channel.display_phone_number = info.display_phone_number
    channel.access_token_encrypted = box.encrypt(access_token)
    channel.access_token_last4 = last4(access_token)
    channel.app_secrets_encrypted = [box.encrypt(app_secret)]
    channel.app_secret_last4 = last4(app_secret)
    channel.verify_token_encrypted = box.encrypt(verify_token)
    channel.verify_token_last4 = last4(verify_token)
    channel.is_connected = True
    channel.paused_reason = None
    channel.paused_at = None
    try:
        # A savepoint: the unique phone_number_id may belong to another tenant, whose row this
        # session cannot see; the violation must not poison the request's transaction.
        async with session.begin_nested():
            if created:
                await channels.create(channel, flush=True)
            else:
                await session.flush()
    except sqlalchemy.exc.IntegrityError as exc:
        raise Conflict("this phone number is connected to another organisation") from exc
    await session.refresh(channel)
    await record(
        session,
        actor,
        "channel.connected" if created else "channel.reconnected",
        entity_type="whatsapp_channel",
        entity_id=channel.id,
        changes={
            "phone_number_id": channel.phone_number_id,
            "waba_id": channel.waba_id,
            "access_token": True,
            "app_secret": True,
            "verify_token": True,
        },
    )
    return to_read(channel)


async def update_credentials(
    session: AsyncSession,
    box: SecretBox,
    graph_factory: GraphFactory,
    actor: Actor,
    channel_id: uuid.UUID,
    request: ChannelCredentialsUpdate,
) -> ChannelRead:
    channel = await get_channel(session, channel_id)
    changes: dict[str, object] = {}
    if request.access_token is not None:
        info = await check_credentials(
            graph_factory,
            request.access_token,
            channel.phone_number_id,
            channel.waba_id,
            channel.graph_version,
        )
        token = request.access_token.get_secret_value()
        channel.access_token_encrypted = box.encrypt(token)
        channel.access_token_last4 = last4(token)
        channel.display_phone_number = info.display_phone_number
        channel.is_connected = True
        channel.paused_reason = None
        channel.paused_at = None
        changes["access_token"] = True
    if request.verify_token is not None:
        verify = request.verify_token.get_secret_value()
        channel.verify_token_encrypted = box.encrypt(verify)
        channel.verify_token_last4 = last4(verify)
        changes["verify_token"] = True
    if request.name is not None and request.name != channel.name:
        changes["name"] = {"from": channel.name, "to": request.name}
        channel.name = request.name
    await session.flush()
    await session.refresh(channel)
    if changes:
        await record(
            session,
            actor,
            "channel.credentials_updated",
            entity_type="whatsapp_channel",
            entity_id=channel.id,
            changes=changes,
        )
    return to_read(channel)


async def rotate_app_secret(
    session: AsyncSession,
    box: SecretBox,
    actor: Actor,
    channel_id: uuid.UUID,
    request: AppSecretRotate,
) -> ChannelRead:
    channel = await get_channel(session, channel_id)
    secret = request.app_secret.get_secret_value()
    previous = list(channel.app_secrets_encrypted or [])[: MAX_APP_SECRETS - 1]
    channel.app_secrets_encrypted = [
        box.encrypt(secret),
        *(previous if request.keep_previous else []),
    ]
    channel.app_secret_last4 = last4(secret)
    await session.flush()
    await session.refresh(channel)
    await record(
        session,
        actor,
        "channel.app_secret_rotated",
        entity_type="whatsapp_channel",
        entity_id=channel.id,
        changes={"app_secret": True, "kept_previous": request.keep_previous},
    )
    return to_read(channel)


async def disconnect(
    session: AsyncSession, box: SecretBox, actor: Actor, channel_id: uuid.UUID
) -> ChannelRead:
    """Stop using the number. The row stays (conversations and messages point at it, and a
    reconnect resumes them); the access token is wiped, as nothing may send with it any more."""
    channel = await get_channel(session, channel_id)
    channel.is_connected = False
    channel.paused_reason = "disconnected"
    channel.access_token_encrypted = box.encrypt("")
    channel.access_token_last4 = ""
    await session.flush()
    await session.refresh(channel)
    await record(
        session,
        actor,
        "channel.disconnected",
        entity_type="whatsapp_channel",
        entity_id=channel.id,
        changes={"access_token": True},
    )
    return to_read(channel)


def _fingerprint(channel: WhatsAppChannel) -> str:
    # Over the ciphertexts' digests, not the secrets: it changes when a secret does and
    # reveals nothing about it.
    material = {
        "id": str(channel.id),
        "phone_number_id": channel.phone_number_id,
        "waba_id": channel.waba_id,
        "graph_version": channel.graph_version,
        "connected": channel.is_connected,
        "paused": channel.paused_reason,
        "secrets": [
            hashlib.sha256(bytes(c)).hexdigest()
            for c in [
                channel.access_token_encrypted,
                channel.verify_token_encrypted,
                *(channel.app_secrets_encrypted or []),
            ]
        ],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


async def internal_channels(system_session: AsyncSession) -> InternalChannelList:
    channels = [
        InternalChannel(
            phone_number_id=c.phone_number_id,
            waba_id=c.waba_id,
            organisation_id=c.organisation_id,
            is_connected=c.is_connected,
            config_hash=_fingerprint(c),
        )
        for c in await all_channels(system_session)
    ]
    overall = hashlib.sha256("".join(c.config_hash for c in channels).encode()).hexdigest()
    return InternalChannelList(channels=channels, hash=overall)
