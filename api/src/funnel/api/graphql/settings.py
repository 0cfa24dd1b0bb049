"""Organisation settings and WhatsApp channels, through the services REST's ``/settings`` calls.

Channel secrets are write-only: inputs carry them, ``Channel`` shows their last four characters.
Connecting (or replacing the access token) checks the credentials with Meta first; a refusal is a
``CredentialsError`` with Meta's code and text, an unreachable Graph API an ``UpstreamError``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql._common import ADMIN, VIEWER, actor, parse_uuid
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UpstreamError,
    UserError,
    ValidationError,
    expected_failure,
    upstream_error,
)
from funnel.api.graphql.permissions import HasRole, IsUser
from funnel.api.routers.settings import graph_factory
from funnel.core.channels import service as channels
from funnel.core.channels.schemas import (
    AppSecretRotate,
    ChannelConnect,
    ChannelCredentialsUpdate,
    ChannelRead,
)
from funnel.core.errors import FunnelError, NotFound, UpstreamFailed, ValidationFailed
from funnel.core.models.enums import MembershipRole
from funnel.core.organisations import service as organisations
from funnel.core.organisations.schemas import (
    DAYS,
    STAGES,
    OrganisationSettings,
    SettingsUpdate,
    TimeRange,
)


@strawberry.type(description="A WhatsApp number; each secret as its last 4 characters only.")
class Channel:
    id: strawberry.ID
    name: str | None
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    graph_version: str
    is_connected: bool
    #: Why sending is paused (``disconnected``, or a Meta restriction); null when it is not.
    paused_reason: str | None
    access_token_last4: str
    app_secret_last4: str
    app_secrets_active: int = strawberry.field(
        description="App secrets accepted for webhook signatures: 2 right after a rotation."
    )
    verify_token_last4: str
    messages_per_second: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_read(cls, channel: ChannelRead) -> Channel:
        return cls(
            id=strawberry.ID(str(channel.id)),
            name=channel.name,
            phone_number_id=channel.phone_number_id,
            waba_id=channel.waba_id,
            display_phone_number=channel.display_phone_number,
            graph_version=channel.graph_version,
            is_connected=channel.is_connected,
            paused_reason=channel.paused_reason,
            access_token_last4=channel.access_token_last4,
            app_secret_last4=channel.app_secret_last4,
            app_secrets_active=channel.app_secrets_active,
            verify_token_last4=channel.verify_token_last4,
            messages_per_second=channel.messages_per_second,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


@strawberry.type
class CredentialsError(UserError):
    """WhatsApp refused the credentials (or they belong to another number); nothing was stored."""

    #: Meta's error code, when Meta answered with one.
    graph_code: int | None
    #: Meta's explanation (never the request, so never a secret).
    graph_message: str | None


@strawberry.input(description="A number's Meta credentials; the secrets are never returned.")
class ConnectChannelInput:
    phone_number_id: str
    waba_id: str
    access_token: str
    app_secret: str
    verify_token: str = strawberry.field(
        description="What Meta's webhook handshake must present; chosen in Meta's console."
    )
    name: str | None = None
    graph_version: str | None = strawberry.field(
        default=None, description="Like v23.0; null: the platform's default."
    )


@strawberry.input(description="Fields left out are unchanged.")
class UpdateChannelInput:
    access_token: str | None = strawberry.field(
        default=None, description="Checked with Meta before it replaces the stored one."
    )
    verify_token: str | None = None
    name: str | None = None


@strawberry.type(name="TimeRange", description="Local HH:MM (24-hour) times.")
class TimeRangeType:
    start: str
    end: str

    @classmethod
    def from_read(cls, r: TimeRange) -> TimeRangeType:
        return cls(start=r.start, end=r.end)


@strawberry.type(description="One weekday's opening hours; no ranges means closed.")
class DayHours:
    day: str = strawberry.field(description="mon, tue, wed, thu, fri, sat or sun.")
    ranges: list[TimeRangeType]


@strawberry.type(name="FollowupPolicy", description="Limits on follow-ups to a quiet lead.")
class FollowupPolicyType:
    max_per_24h: int
    max_total: int
    min_gap_minutes: int


@strawberry.type(description="The model a pipeline stage uses instead of the platform default.")
class StageModel:
    stage: str = strawberry.field(description="eyes, brain, mouth or memory.")
    model: str


@strawberry.input
class TimeRangeInput:
    start: str
    end: str


@strawberry.input
class DayHoursInput:
    day: str
    ranges: list[TimeRangeInput]


@strawberry.input
class FollowupPolicyInput:
    max_per_24h: int
    max_total: int
    min_gap_minutes: int


@strawberry.input
class StageModelInput:
    stage: str
    model: str


def _ordered(keys: dict[str, object], order: tuple[str, ...]) -> list[str]:
    return sorted(keys, key=lambda k: order.index(k) if k in order else len(order))


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
    business_hours: list[DayHours] = strawberry.field(
        description="Opening hours by weekday (only the days set), in the organisation's timezone."
    )
    quiet_hours: TimeRangeType | None = strawberry.field(
        description="No proactive sends (follow-ups) inside it; may cross midnight. Null: none."
    )
    followup_policy: FollowupPolicyType | None = strawberry.field(
        description="Follow-up limits; null: the platform's defaults."
    )
    llm_models: list[StageModel] = strawberry.field(
        description="Per-stage model overrides; stages left out use the platform's default."
    )
    allowed_link_domains: list[str] = strawberry.field(
        description="Domains a reply may link to; other links are removed."
    )

    @classmethod
    def from_read(cls, s: OrganisationSettings) -> Settings:
        policy = s.followup_policy
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
            business_hours=[
                DayHours(
                    day=day,
                    ranges=[TimeRangeType.from_read(r) for r in s.business_hours[day]],
                )
                for day in _ordered(dict(s.business_hours), DAYS)
            ],
            quiet_hours=TimeRangeType.from_read(s.quiet_hours) if s.quiet_hours else None,
            followup_policy=(
                FollowupPolicyType(
                    max_per_24h=policy.max_per_24h,
                    max_total=policy.max_total,
                    min_gap_minutes=policy.min_gap_minutes,
                )
                if policy
                else None
            ),
            llm_models=[
                StageModel(stage=stage, model=s.llm_models[stage])
                for stage in _ordered(dict(s.llm_models), STAGES)
            ],
            allowed_link_domains=list(s.allowed_link_domains),
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
    business_hours: list[DayHoursInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces every day's hours; days left out are closed.",
    )
    quiet_hours: TimeRangeInput | None = strawberry.field(
        default=strawberry.UNSET, description="Null removes quiet hours."
    )
    followup_policy: FollowupPolicyInput | None = strawberry.field(
        default=strawberry.UNSET, description="Null goes back to the platform's defaults."
    )
    llm_models: list[StageModelInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces every override; stages left out use the default.",
    )
    allowed_link_domains: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Bare domain names (example.com), at most 50."
    )


def _plain(value: object) -> object:
    """Input objects as the dicts and lists ``SettingsUpdate`` reads."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__strawberry_definition__"):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value


def _update_values(input: SettingsInput) -> dict[str, object]:
    values = {
        key: _plain(value) for key, value in vars(input).items() if value is not strawberry.UNSET
    }
    hours = values.get("business_hours")
    if isinstance(hours, list):
        values["business_hours"] = {day["day"]: day["ranges"] for day in hours}
    models = values.get("llm_models")
    if isinstance(models, list):
        values["llm_models"] = {m["stage"]: m["model"] for m in models}
    return values


def _problem(exc: PydanticValidationError) -> str:
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}: {message}" if where else message


ChannelResult = Annotated[
    Channel
    | CredentialsError
    | ValidationError
    | NotFoundError
    | ConflictError
    | UpstreamError
    | ForbiddenError,
    strawberry.union("ChannelResult"),
]


def _channel_failure(info: Info, exc: FunnelError) -> Any:
    info.context.failed = True
    if isinstance(exc, UpstreamFailed):
        return upstream_error(exc)
    if isinstance(exc, ValidationFailed) and "credentials" in exc.details:
        graph_code = exc.details.get("graph_code")
        graph_message = exc.details.get("graph_message")
        return CredentialsError(
            message=exc.message,
            code=f"credentials_{exc.details['credentials']}",
            graph_code=graph_code if isinstance(graph_code, int) else None,
            graph_message=str(graph_message) if graph_message else None,
        )
    return expected_failure(exc)


def _channel_not_found(info: Info) -> NotFoundError:
    info.context.failed = True
    return NotFoundError(message="channel not found", code="not_found")


UpdateSettingsResult = Annotated[
    Settings | ForbiddenError | ValidationError | NotFoundError | ConflictError,
    strawberry.union("UpdateSettingsResult"),
]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsUser], description="The organisation's settings.")
    async def settings(self, info: Info) -> Settings:
        return Settings.from_read(await organisations.get_settings(info.context.session))

    @strawberry.field(permission_classes=VIEWER, description="One WhatsApp number, or null.")
    async def channel(self, info: Info, id: strawberry.ID) -> Channel | None:
        channel_id = parse_uuid(id)
        if channel_id is None:
            return None
        try:
            channel = await channels.get_channel(info.context.session, channel_id)
        except NotFound:
            return None
        return Channel.from_read(channels.to_read(channel))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[HasRole.at_least(MembershipRole.ADMIN)],
        description="Change settings; fields left out are unchanged.",
    )
    async def update_settings(self, info: Info, input: SettingsInput) -> UpdateSettingsResult:
        try:
            update = SettingsUpdate.model_validate(_update_values(input))
        except PydanticValidationError as exc:
            info.context.failed = True
            return ValidationError(message=_problem(exc), code="validation_failed")
        try:
            result = await organisations.update_settings(info.context.session, actor(info), update)
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Settings.from_read(result)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description=(
            "Connect a WhatsApp number, its credentials checked with Meta first (REST: POST "
            "/settings/whatsapp/channels). Connecting a number again replaces its credentials."
        ),
    )
    async def connect_channel(self, info: Info, input: ConnectChannelInput) -> ChannelResult:
        try:
            request = ChannelConnect.model_validate(vars(input))
        except PydanticValidationError as exc:
            info.context.failed = True
            return ValidationError(message=_problem(exc), code="validation_failed")
        resources = info.context.resources
        try:
            connected = await channels.connect(
                info.context.session,
                resources.secret_box,
                graph_factory(resources),
                actor(info),
                request,
                default_version=resources.settings.whatsapp.graph_version,
            )
        except FunnelError as exc:
            return _channel_failure(info, exc)  # type: ignore[no-any-return]
        return Channel.from_read(connected)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Replace the access token (checked with Meta) or verify token, or rename.",
    )
    async def update_channel(
        self, info: Info, id: strawberry.ID, input: UpdateChannelInput
    ) -> ChannelResult:
        channel_id = parse_uuid(id)
        if channel_id is None:
            return _channel_not_found(info)
        try:
            request = ChannelCredentialsUpdate.model_validate(
                {key: value for key, value in vars(input).items() if value is not None}
            )
        except PydanticValidationError as exc:
            info.context.failed = True
            return ValidationError(message=_problem(exc), code="validation_failed")
        resources = info.context.resources
        try:
            updated = await channels.update_credentials(
                info.context.session,
                resources.secret_box,
                graph_factory(resources),
                actor(info),
                channel_id,
                request,
            )
        except FunnelError as exc:
            return _channel_failure(info, exc)  # type: ignore[no-any-return]
        return Channel.from_read(updated)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description=(
            "Rotate the app secret. The previous one stays accepted until the next rotation "
            "unless keepPrevious is false."
        ),
    )
    async def rotate_channel_app_secret(
        self, info: Info, id: strawberry.ID, app_secret: str, keep_previous: bool = True
    ) -> ChannelResult:
        channel_id = parse_uuid(id)
        if channel_id is None:
            return _channel_not_found(info)
        try:
            request = AppSecretRotate(
                app_secret=app_secret,  # type: ignore[arg-type]
                keep_previous=keep_previous,
            )
        except PydanticValidationError as exc:
            info.context.failed = True
            return ValidationError(message=_problem(exc), code="validation_failed")
        try:
            rotated = await channels.rotate_app_secret(
                info.context.session,
                info.context.resources.secret_box,
                actor(info),
                channel_id,
                request,
            )
        except FunnelError as exc:
            return _channel_failure(info, exc)  # type: ignore[no-any-return]
        return Channel.from_read(rotated)

    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Stop using a number; its conversations and messages are kept.",
    )
    async def disconnect_channel(self, info: Info, id: strawberry.ID) -> ChannelResult:
        channel_id = parse_uuid(id)
        if channel_id is None:
            return _channel_not_found(info)
        try:
            disconnected = await channels.disconnect(
                info.context.session, info.context.resources.secret_box, actor(info), channel_id
            )
        except FunnelError as exc:
            return _channel_failure(info, exc)  # type: ignore[no-any-return]
        return Channel.from_read(disconnected)
