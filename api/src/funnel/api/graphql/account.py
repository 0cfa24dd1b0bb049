"""The caller, their organisation and its members."""

from __future__ import annotations

import datetime as dt
import uuid

import strawberry

from funnel.api.graphql.context import Info
from funnel.api.graphql.permissions import IsUser
from funnel.core.auth import service as auth_service
from funnel.core.auth.schemas import MemberRead
from funnel.core.errors import Forbidden, NotFound
from funnel.core.models import Organisation as OrganisationModel
from funnel.core.models.enums import MembershipRole

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
