"""Organisation settings and WhatsApp channels (last four characters of secrets only)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    expected_failure,
)
from funnel.api.graphql.permissions import HasRole, IsUser
from funnel.core.audit.writer import Actor
from funnel.core.channels import service as channels
from funnel.core.channels.schemas import ChannelRead
from funnel.core.errors import FunnelError
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.organisations import service as organisations
from funnel.core.organisations.schemas import OrganisationSettings, SettingsUpdate
from funnel.core.telemetry import correlation_id


@strawberry.type
class Channel:
    id: strawberry.ID
    name: str | None
    phone_number_id: str
    display_phone_number: str | None
    is_connected: bool
    access_token_last4: str
    app_secret_last4: str
    verify_token_last4: str

    @classmethod
    def from_read(cls, channel: ChannelRead) -> Channel:
        return cls(
            id=strawberry.ID(str(channel.id)),
            name=channel.name,
            phone_number_id=channel.phone_number_id,
            display_phone_number=channel.display_phone_number,
            is_connected=channel.is_connected,
            access_token_last4=channel.access_token_last4,
            app_secret_last4=channel.app_secret_last4,
            verify_token_last4=channel.verify_token_last4,
        )


@strawberry.type
class Settings:
    name: str
    business_name: str | None
    business_description: str | None
    persona_prompt: str | None
    flow_prompt: str | None
    timezone: str
    default_language: str
    reply_word_limit: int
    pause_bot_on_attention: bool
    notify_customer_on_handoff: bool = strawberry.field(
        description="Whether the customer is told a person will follow up when the bot hands off."
    )
    auto_release_minutes: int

    @classmethod
    def from_read(cls, s: OrganisationSettings) -> Settings:
        return cls(
            name=s.name,
            business_name=s.business_name,
            business_description=s.business_description,
            persona_prompt=s.persona_prompt,
            flow_prompt=s.flow_prompt,
            timezone=s.timezone,
            default_language=s.default_language,
            reply_word_limit=s.reply_word_limit,
            pause_bot_on_attention=s.pause_bot_on_attention,
            notify_customer_on_handoff=s.notify_customer_on_handoff,
            auto_release_minutes=s.auto_release_minutes,
        )

    @strawberry.field(description="Connected WhatsApp numbers; secrets as their last 4 only.")
    async def channels(self, info: Info) -> list[Channel]:
        return [Channel.from_read(c) for c in await channels.list_channels(info.context.session)]


@strawberry.input
class SettingsInput:
    name: str | None = strawberry.UNSET
    business_name: str | None = strawberry.UNSET
    business_description: str | None = strawberry.UNSET
    persona_prompt: str | None = strawberry.UNSET
    flow_prompt: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    default_language: str | None = strawberry.UNSET
    reply_word_limit: int | None = strawberry.UNSET
    pause_bot_on_attention: bool | None = strawberry.UNSET
    notify_customer_on_handoff: bool | None = strawberry.UNSET
    auto_release_minutes: int | None = strawberry.UNSET


UpdateSettingsResult = Annotated[
    Settings | ForbiddenError | ValidationError | NotFoundError | ConflictError,
    strawberry.union("UpdateSettingsResult"),
]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsUser], description="The organisation's settings.")
    async def settings(self, info: Info) -> Settings:
        return Settings.from_read(await organisations.get_settings(info.context.session))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[HasRole.at_least(MembershipRole.ADMIN)],
        description="Change settings; fields left out are unchanged.",
    )
    async def update_settings(self, info: Info, input: SettingsInput) -> UpdateSettingsResult:
        principal = info.context.require_principal()
        values = {key: value for key, value in vars(input).items() if value is not strawberry.UNSET}
        try:
            update = SettingsUpdate.model_validate(values)
        except PydanticValidationError as exc:
            info.context.failed = True
            return ValidationError(message=str(exc.errors()[0]["msg"]), code="validation_failed")
        actor = Actor(
            organisation_id=principal.organisation_id,
            kind=ActorKind.USER,
            user_id=principal.user.id if principal.user else None,
            correlation_id=correlation_id(),
        )
        try:
            result = await organisations.update_settings(info.context.session, actor, update)
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Settings.from_read(result)
