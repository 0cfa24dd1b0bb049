"""SQL for identity data.

Two kinds of access, kept apart on purpose:

* :class:`IdentityRepository` runs on an *unscoped* session (the login role): finding a user by
  email at login, a refresh token by its hash, an invitation by its hash, an API key by its hash.
  None of these can be scoped yet, because the organisation is what they are about to establish.
  ``refresh_tokens`` is not granted to the tenant role at all.
* The tenant repositories (:class:`MembershipRepository`, :class:`InvitationRepository`,
  :class:`ApiKeyRepository`) run on the request's scoped session, under row-level security.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Self, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from funnel.core.db.base import Base
from funnel.core.db.tenancy import (
    TenantRepository,
    current_organisation_id,
    scoping,
    select_one_and_scope,
)
from funnel.core.models import ApiKey, Invitation, Membership, Organisation, RefreshToken, User
from funnel.core.models.enums import MembershipRole

#: The principal behind an access token (see :meth:`IdentityRepository.load_principal`), built
#: once: every authenticated request runs it.
_PRINCIPAL = (
    sa.select(User, Membership, Organisation)
    .join(Membership, Membership.user_id == User.id)
    .join(Organisation, Organisation.id == Membership.organisation_id)
    .where(
        User.id == sa.bindparam("user_id"),
        Membership.organisation_id == sa.bindparam("organisation_id"),
        User.is_active.is_(True),
        Organisation.is_active.is_(True),
        sa.select(sa.literal(True))
        .where(
            RefreshToken.family_id == sa.bindparam("session_id"),
            RefreshToken.user_id == sa.bindparam("user_id"),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > sa.bindparam("now"),
        )
        .exists(),
    )
)
_SCOPED_PRINCIPAL = scoping(cast("sa.Select[Any]", _PRINCIPAL))


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_user(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_user_by_email(self, email: str) -> User | None:
        result = await self.session.execute(
            sa.select(User).where(sa.func.lower(User.email) == email.strip().lower())
        )
        return result.scalar_one_or_none()

    async def get_organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def slug_taken(self, slug: str) -> bool:
        result = await self.session.execute(
            sa.select(sa.literal(True)).where(Organisation.slug == slug)
        )
        return result.scalar_one_or_none() is not None

    async def memberships_of(self, user_id: uuid.UUID) -> Sequence[tuple[Membership, Organisation]]:
        """Every membership of a user in an active organisation, oldest first (the first is where
        a login without an explicit organisation lands)."""
        result = await self.session.execute(
            sa.select(Membership, Organisation)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user_id, Organisation.is_active.is_(True))
            .order_by(Membership.created_at, Membership.id)
        )
        return [(m, o) for m, o in result.all()]

    async def get_membership(
        self, user_id: uuid.UUID, organisation_id: uuid.UUID
    ) -> Membership | None:
        result = await self.session.execute(
            sa.select(Membership).where(
                Membership.user_id == user_id, Membership.organisation_id == organisation_id
            )
        )
        return result.scalar_one_or_none()

    async def load_principal(
        self,
        user_id: uuid.UUID,
        organisation_id: uuid.UUID,
        session_id: uuid.UUID,
        now: dt.datetime,
        *,
        scope: bool = False,
    ) -> tuple[User, Membership, Organisation] | None:
        """The user, membership and organisation behind an access token, in one round trip, or
        None when any is gone, inactive, or the session (refresh family) has been revoked. With
        ``scope``, the same round trip scopes the session to the organisation when found
        (:func:`funnel.core.db.tenancy.select_one_and_scope`)."""
        parameters = {
            "user_id": user_id,
            "organisation_id": organisation_id,
            "session_id": session_id,
            "now": now,
        }
        found: Any
        if scope:
            # Every request pays this query: scoping the session rides on it.
            found = await select_one_and_scope(
                self.session, _SCOPED_PRINCIPAL, organisation_id, parameters
            )
        else:
            found = (await self.session.execute(_PRINCIPAL, parameters)).one_or_none()
        return (found[0], found[1], found[2]) if found else None

    # ---------------------------------------------------------------- refresh tokens
    async def get_refresh_token_by_hash(self, token_hash: str) -> RefreshToken | None:
        result = await self.session.execute(
            sa.select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        return result.scalar_one_or_none()

    async def family_alive(self, family_id: uuid.UUID, now: dt.datetime) -> bool:
        """Whether the login session still has a usable refresh token (not logged out)."""
        alive = (
            sa.select(sa.literal(True))
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .exists()
        )
        return bool(await self.session.scalar(sa.select(alive)))

    async def revoke_family(self, family_id: uuid.UUID, now: dt.datetime) -> int:
        result = await self.session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0))

    async def revoke_user_sessions(
        self,
        user_id: uuid.UUID,
        now: dt.datetime,
        *,
        except_family: uuid.UUID | None = None,
        organisation_id: uuid.UUID | None = None,
    ) -> int:
        statement = sa.update(RefreshToken).where(
            RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
        )
        if except_family is not None:
            statement = statement.where(RefreshToken.family_id != except_family)
        if organisation_id is not None:
            statement = statement.where(RefreshToken.organisation_id == organisation_id)
        result = await self.session.execute(statement.values(revoked_at=now))
        return int(getattr(result, "rowcount", 0))

    # ---------------------------------------------------------------- invitations and keys
    async def get_invitation_by_hash(self, token_hash: str) -> Invitation | None:
        result = await self.session.execute(
            sa.select(Invitation).where(Invitation.token_hash == token_hash).with_for_update()
        )
        return result.scalar_one_or_none()

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        result = await self.session.execute(sa.select(ApiKey).where(ApiKey.key_hash == key_hash))
        return result.scalar_one_or_none()

    async def touch_api_key(self, api_key_id: uuid.UUID, now: dt.datetime) -> None:
        await self.session.execute(
            sa.update(ApiKey).where(ApiKey.id == api_key_id).values(last_used_at=now)
        )


ModelT = TypeVar("ModelT", bound=Base)


class ScopedRepository(TenantRepository[ModelT]):
    """``scoped()`` typed as the subclass, so its own queries type-check at the call site."""

    @classmethod
    def scoped(cls, session: AsyncSession) -> Self:
        return cls(session, current_organisation_id(session))


class MembershipRepository(ScopedRepository[Membership]):
    model = Membership

    def with_users(self) -> sa.Select[Membership]:
        return (
            self.get_base_statement().join(Membership.user).options(contains_eager(Membership.user))
        )

    async def list_with_users(self) -> Sequence[Membership]:
        return await self.get_all(self.with_users().order_by(Membership.created_at, Membership.id))

    async def get_for_user(self, user_id: uuid.UUID) -> Membership | None:
        return await self.get_one_or_none(self.with_users().where(Membership.user_id == user_id))

    async def count_owners(self) -> int:
        return await self.count(
            self.get_base_statement().where(
                Membership.role == MembershipRole.OWNER,
                Membership.user.has(User.is_active.is_(True)),
            )
        )


class InvitationRepository(ScopedRepository[Invitation]):
    model = Invitation

    async def revoke_open_for_email(self, email: str, now: dt.datetime) -> int:
        return await self.update_where(
            sa.func.lower(Invitation.email) == email.strip().lower(),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            revoked_at=now,
        )

    async def list_open(self, now: dt.datetime) -> Sequence[Invitation]:
        return await self.get_all(
            self.get_base_statement()
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at.desc())
        )


class ApiKeyRepository(ScopedRepository[ApiKey]):
    model = ApiKey

    async def list_active(self) -> Sequence[ApiKey]:
        return await self.get_all(
            self.get_base_statement()
            .where(ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at.desc())
        )
