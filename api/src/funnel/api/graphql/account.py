"""The caller, their organisation and its members."""

from __future__ import annotations

import datetime as dt
import uuid
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
from funnel.api.graphql.loaders import user_by_id
from funnel.api.graphql.permissions import HasRole, IsUser
from funnel.core.audit.writer import Actor
from funnel.core.auth import service as auth_service
from funnel.core.auth.schemas import ChangeRoleRequest, InviteRequest, MemberRead
from funnel.core.errors import Forbidden, FunnelError, NotFound
from funnel.core.models import Organisation as OrganisationModel
from funnel.core.models.enums import ActorKind, MembershipRole
from funnel.core.telemetry import correlation_id

Role = strawberry.enum(MembershipRole, name="Role")


@strawberry.type
class Member:
    id: strawberry.ID
    email: str
    name: str
    role: Role  # type: ignore[valid-type]
    is_active: bool
    joined_at: dt.datetime
    last_login_at: dt.datetime | None

    @classmethod
    def from_read(cls, member: MemberRead) -> Member:
        return cls(
            id=strawberry.ID(str(member.id)),
            email=member.email,
            name=member.name,
            role=member.role,
            is_active=member.is_active,
            joined_at=member.joined_at,
            last_login_at=member.last_login_at,
        )


@strawberry.type
class Organisation:
    id: strawberry.ID
    name: str
    slug: str
    timezone: str
    business_name: str | None
    business_description: str | None
    default_language: str

    @classmethod
    def from_model(cls, organisation: OrganisationModel) -> Organisation:
        return cls(
            id=strawberry.ID(str(organisation.id)),
            name=organisation.name,
            slug=organisation.slug,
            timezone=organisation.timezone,
            business_name=organisation.business_name,
            business_description=organisation.business_description,
            default_language=organisation.default_language,
        )


@strawberry.type
class Viewer:
    user: Member
    role: Role  # type: ignore[valid-type]
    organisation: Organisation
    is_platform_admin: bool


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsUser], description="The signed-in user.")
    async def me(self, info: Info) -> Viewer:
        principal = info.context.require_principal()
        user, membership = principal.user, principal.membership
        if user is None or membership is None:
            raise Forbidden("a user session is required")
        member = await auth_service.get_member(info.context.session, user.id)
        return Viewer(
            user=Member.from_read(member),
            role=membership.role,
            organisation=Organisation.from_model(principal.organisation),
            is_platform_admin=user.is_platform_admin,
        )

    @strawberry.field(permission_classes=[IsUser], description="The caller's organisation.")
    async def organisation(self, info: Info) -> Organisation:
        return Organisation.from_model(info.context.require_principal().organisation)

    @strawberry.field(permission_classes=[IsUser], description="Members of the organisation.")
    async def users(self, info: Info) -> list[Member]:
        return [Member.from_read(m) for m in await auth_service.list_members(info.context.session)]

    @strawberry.field(
        permission_classes=[HasRole.at_least(MembershipRole.ADMIN)],
        description="Open invitations (their tokens are never shown again).",
    )
    async def invitations(self, info: Info) -> list[Invitation]:
        return [
            Invitation(
                id=strawberry.ID(str(i.id)),
                email=i.email,
                role=i.role,
                expires_at=i.expires_at,
                invited_by_user_id=i.invited_by_user_id,
            )
            for i in await auth_service.list_invitations(info.context.session)
        ]

    @strawberry.field(permission_classes=[IsUser], description="One member, by user id.")
    async def user(self, info: Info, id: strawberry.ID) -> Member | None:
        try:
            user_id = uuid.UUID(str(id))
        except ValueError:
            return None
        try:
            return Member.from_read(await auth_service.get_member(info.context.session, user_id))
        except NotFound:
            return None


@strawberry.type
class Person:
    id: strawberry.ID
    name: str
    email: str


@strawberry.type
class Invitation:
    id: strawberry.ID
    email: str
    role: Role  # type: ignore[valid-type]
    expires_at: dt.datetime
    #: The single-use link token, present only in the response to the invite that created it.
    accept_token: str | None = None
    invited_by_user_id: strawberry.Private[uuid.UUID | None] = None

    @strawberry.field(description="Who sent it (batched: one query for a whole page).")
    async def invited_by(self, info: Info) -> Person | None:
        if self.invited_by_user_id is None:
            return None
        user = await info.context.loader(user_by_id).load(self.invited_by_user_id)
        if user is None:
            return None
        return Person(id=strawberry.ID(str(user.id)), name=user.name, email=user.email)


@strawberry.type
class Deactivated:
    user_id: strawberry.ID


InviteUserResult = Annotated[
    Invitation | ForbiddenError | ConflictError | ValidationError | NotFoundError,
    strawberry.union("InviteUserResult"),
]
ChangeRoleResult = Annotated[
    Member | ForbiddenError | ConflictError | NotFoundError | ValidationError,
    strawberry.union("ChangeRoleResult"),
]
DeactivateUserResult = Annotated[
    Deactivated | ForbiddenError | ConflictError | NotFoundError | ValidationError,
    strawberry.union("DeactivateUserResult"),
]


def _actor(info: Info) -> Actor:
    principal = info.context.require_principal()
    return Actor(
        organisation_id=principal.organisation_id,
        kind=ActorKind.USER,
        user_id=principal.user.id if principal.user else None,
        correlation_id=correlation_id(),
    )


def _user_id(value: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("user not found") from exc


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=[HasRole.at_least(MembershipRole.ADMIN)],
        description="Invite someone; the accept token is returned in this response only.",
    )
    async def invite_user(
        self,
        info: Info,
        email: str,
        role: Role = MembershipRole.AGENT,  # type: ignore[valid-type]
    ) -> InviteUserResult:
        try:
            request = InviteRequest(email=email, role=role)
        except PydanticValidationError as exc:
            info.context.failed = True
            return ValidationError(message=str(exc.errors()[0]["msg"]), code="validation_failed")
        try:
            created = await auth_service.invite(
                info.context.session,
                info.context.resources.settings.auth,
                info.context.require_principal(),
                _actor(info),
                request,
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Invitation(
            id=strawberry.ID(str(created.id)),
            email=created.email,
            role=created.role,
            expires_at=created.expires_at,
            accept_token=created.accept_token,
        )

    @strawberry.mutation(
        permission_classes=[HasRole.at_least(MembershipRole.ADMIN)],
        description="Change a member's role (owners manage owners; never one's own upwards).",
    )
    async def change_user_role(
        self,
        info: Info,
        user_id: strawberry.ID,
        role: Role,  # type: ignore[valid-type]
    ) -> ChangeRoleResult:
        try:
            member = await auth_service.change_role(
                info.context.session,
                info.context.require_principal(),
                _actor(info),
                _user_id(user_id),
                ChangeRoleRequest(role=role),
            )
        except FunnelError as exc:
            info.context.failed = True
            return expected_failure(exc)
        return Member.from_read(member)

    @strawberry.mutation(
        permission_classes=[HasRole.at_least(MembershipRole.ADMIN)],
        description="Remove a member's access and sessions at once.",
    )
    async def deactivate_user(self, info: Info, user_id: strawberry.ID) -> DeactivateUserResult:
        # Refresh tokens are not granted to the tenant role: revoked on an unscoped session,
        # committed only if the deactivation itself succeeds.
        async with info.context.resources.sessionmaker() as system_session:
            try:
                await auth_service.deactivate_member(
                    info.context.session,
                    system_session,
                    info.context.require_principal(),
                    _actor(info),
                    _user_id(user_id),
                )
            except FunnelError as exc:
                info.context.failed = True
                await system_session.rollback()
                return expected_failure(exc)
            await system_session.commit()
        return Deactivated(user_id=user_id)
