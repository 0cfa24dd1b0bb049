"""The caller's organisation profile (REST: ``PATCH /organisations/current``) and the revoking of
an open invitation (REST: ``DELETE /users/invitations/{id}``), through the same services."""

from __future__ import annotations

from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticValidationError

from funnel.api.graphql._common import ADMIN, Deleted, actor, parse_uuid
from funnel.api.graphql.account import Organisation
from funnel.api.graphql.context import Info
from funnel.api.graphql.errors import (
    ForbiddenError,
    LimitError,
    NotFoundError,
    expected_failure,
    limit_error,
)
from funnel.core.auth import service as auth_service
from funnel.core.errors import FunnelError, NotFound, ValidationFailed
from funnel.core.organisations import service as organisations
from funnel.core.organisations.schemas import OrganisationUpdate


@strawberry.input
class OrganisationInput:
    name: str | None = strawberry.UNSET
    business_name: str | None = strawberry.UNSET
    business_description: str | None = strawberry.UNSET


UpdateOrganisationResult = Annotated[
    Organisation | LimitError | ForbiddenError | NotFoundError,
    strawberry.union("UpdateOrganisationResult"),
]
RevokeInvitationResult = Annotated[
    Deleted | NotFoundError | ForbiddenError, strawberry.union("RevokeInvitationResult")
]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Change the organisation's profile; fields left out are unchanged.",
    )
    async def update_organisation(
        self, info: Info, input: OrganisationInput
    ) -> UpdateOrganisationResult:
        values = {k: v for k, v in vars(input).items() if v is not strawberry.UNSET}
        try:
            update = OrganisationUpdate.model_validate(values)
            await organisations.update_own(info.context.session, actor(info), update)
            organisation = await organisations.get_own(info.context.session)
        except PydanticValidationError as exc:
            info.context.failed = True
            return limit_error(exc)
        except ValidationFailed as exc:
            info.context.failed = True
            return limit_error(exc)
        except FunnelError as exc:
            info.context.failed = True
            failure = expected_failure(exc)
            assert isinstance(failure, NotFoundError | ForbiddenError), failure
            return failure
        return Organisation.from_model(organisation)

    @strawberry.mutation(permission_classes=ADMIN, description="Revoke an open invitation.")
    async def revoke_invitation(self, info: Info, id: strawberry.ID) -> RevokeInvitationResult:
        invitation_id = parse_uuid(id)
        try:
            if invitation_id is None:
                raise NotFound("invitation not found")
            await auth_service.revoke_invitation(info.context.session, actor(info), invitation_id)
        except NotFound as exc:
            info.context.failed = True
            return NotFoundError(message=exc.message, code=exc.code)
        return Deleted(id=id)
