"""``/settings``: what the bot reads from the organisation, WhatsApp channels, API keys.

Channel secrets are write-only: requests carry them, responses show their last four characters.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from pydantic import SecretStr

from funnel.api.deps import ActorDep, AdminDep, OwnerDep, ResourcesDep, SessionDep, ViewerDep
from funnel.api.errors import error_responses
from funnel.api.permissions import ADMIN, OWNER, VIEWER, Access
from funnel.api.resources import Resources
from funnel.core.auth import service as auth_service
from funnel.core.auth.schemas import ApiKeyCreated, ApiKeyRead, CreateApiKeyRequest
from funnel.core.channels import service as channels
from funnel.core.channels.schemas import (
    AppSecretRotate,
    ChannelConnect,
    ChannelCredentialsUpdate,
    ChannelRead,
)
from funnel.core.channels.service import GraphFactory
from funnel.core.organisations import service as organisations
from funnel.core.organisations.schemas import OrganisationSettings, SettingsUpdate
from funnel.core.whatsapp.graph import GraphClient, HttpGraphClient

router = APIRouter(prefix="/settings", tags=["settings"])

PERMISSIONS: dict[str, Access] = {
    "GET /settings": VIEWER,
    "PATCH /settings": ADMIN,
    "GET /settings/whatsapp/channels": VIEWER,
    "POST /settings/whatsapp/channels": Access(ADMIN.level, note="checked against the Graph API"),
    "GET /settings/whatsapp/channels/{channel_id}": VIEWER,
    "PATCH /settings/whatsapp/channels/{channel_id}": ADMIN,
    "POST /settings/whatsapp/channels/{channel_id}/app-secret": ADMIN,
    "POST /settings/whatsapp/channels/{channel_id}/disconnect": ADMIN,
    "GET /settings/api-keys": ADMIN,
    "POST /settings/api-keys": Access(OWNER.level, note="the key is shown once"),
    "DELETE /settings/api-keys/{api_key_id}": OWNER,
}


def graph_factory(resources: Resources) -> GraphFactory:
    def build(
        token: SecretStr, phone_number_id: str, waba_id: str, version: str | None
    ) -> GraphClient:
        whatsapp = resources.settings.whatsapp
        return HttpGraphClient(
            resources.http,
            token=token,
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            base_url=whatsapp.graph_base_url,
            version=version or whatsapp.graph_version,
            timeout_s=whatsapp.request_timeout_s,
        )

    return build


@router.get("", responses=error_responses(401, 403), summary="Organisation settings")
async def get_settings(session: SessionDep, _: ViewerDep) -> OrganisationSettings:
    return await organisations.get_settings(session)


@router.patch("", responses=error_responses(401, 403, 422), summary="Update settings")
async def update_settings(
    body: SettingsUpdate, session: SessionDep, _: AdminDep, actor: ActorDep
) -> OrganisationSettings:
    return await organisations.update_settings(session, actor, body)


@router.get("/whatsapp/channels", responses=error_responses(401, 403), summary="Connected numbers")
async def list_channels(session: SessionDep, _: ViewerDep) -> list[ChannelRead]:
    return await channels.list_channels(session)


@router.post(
    "/whatsapp/channels",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422, 502),
    summary="Connect a number (credentials checked with Meta first)",
)
async def connect_channel(
    body: ChannelConnect,
    session: SessionDep,
    _: AdminDep,
    actor: ActorDep,
    resources: ResourcesDep,
) -> ChannelRead:
    return await channels.connect(
        session,
        resources.secret_box,
        graph_factory(resources),
        actor,
        body,
        default_version=resources.settings.whatsapp.graph_version,
    )


@router.get(
    "/whatsapp/channels/{channel_id}",
    responses=error_responses(401, 403, 404),
    summary="One channel",
)
async def get_channel(channel_id: uuid.UUID, session: SessionDep, _: ViewerDep) -> ChannelRead:
    return channels.to_read(await channels.get_channel(session, channel_id))


@router.patch(
    "/whatsapp/channels/{channel_id}",
    responses=error_responses(401, 403, 404, 422, 502),
    summary="Replace the access token (re-checked) or verify token, or rename",
)
async def update_channel(
    channel_id: uuid.UUID,
    body: ChannelCredentialsUpdate,
    session: SessionDep,
    _: AdminDep,
    actor: ActorDep,
    resources: ResourcesDep,
) -> ChannelRead:
    return await channels.update_credentials(
        session, resources.secret_box, graph_factory(resources), actor, channel_id, body
    )


@router.post(
    "/whatsapp/channels/{channel_id}/app-secret",
    responses=error_responses(401, 403, 404),
    summary="Rotate the app secret (the previous one stays valid until the next rotation)",
)
async def rotate_app_secret(
    channel_id: uuid.UUID,
    body: AppSecretRotate,
    session: SessionDep,
    _: AdminDep,
    actor: ActorDep,
    resources: ResourcesDep,
) -> ChannelRead:
    return await channels.rotate_app_secret(session, resources.secret_box, actor, channel_id, body)


@router.post(
    "/whatsapp/channels/{channel_id}/disconnect",
    responses=error_responses(401, 403, 404),
    summary="Stop using a number; its conversations and messages are kept",
)
async def disconnect_channel(
    channel_id: uuid.UUID,
    session: SessionDep,
    _: AdminDep,
    actor: ActorDep,
    resources: ResourcesDep,
) -> ChannelRead:
    return await channels.disconnect(session, resources.secret_box, actor, channel_id)


@router.get("/api-keys", responses=error_responses(401, 403), summary="Active API keys")
async def list_api_keys(session: SessionDep, _: AdminDep) -> list[ApiKeyRead]:
    return await auth_service.list_api_keys(session)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 422),
    summary="Create an API key (shown once)",
)
async def create_api_key(
    body: CreateApiKeyRequest, session: SessionDep, principal: OwnerDep, actor: ActorDep
) -> ApiKeyCreated:
    return await auth_service.create_api_key(session, principal, actor, body)


@router.delete(
    "/api-keys/{api_key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
    summary="Revoke an API key",
)
async def revoke_api_key(
    api_key_id: uuid.UUID, session: SessionDep, _: OwnerDep, actor: ActorDep
) -> None:
    await auth_service.revoke_api_key(session, actor, api_key_id)
