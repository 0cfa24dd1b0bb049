"""The GraphQL role matrix, generated from the schema: every query and mutation is called by an
anonymous caller and by each role, with its required arguments filled in. Roles below the
field's ``HasRole`` minimum (or any role, for platform-admin fields) get ``FORBIDDEN`` and no
data; the minimum role and above are never refused; anonymous callers always are. A field with
no permission class at all fails the test."""

from __future__ import annotations

from typing import Any

import httpx
from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)

from funnel.api.graphql.permissions import HasRole, IsAuthenticated, IsPlatformAdmin, IsUser
from funnel.api.graphql.schema import build_schema
from funnel.core.auth.schemas import role_at_least
from funnel.core.models.enums import MembershipRole
from tests.api.conftest import Tenant
from tests.api.graphql_literals import literal

ROLES = [MembershipRole.VIEWER, MembershipRole.AGENT, MembershipRole.ADMIN, MembershipRole.OWNER]


def selection(graphql_type: Any) -> str:
    named = get_named_type(graphql_type)
    if isinstance(named, GraphQLObjectType | GraphQLUnionType):
        return " { __typename }"
    return ""


def requirement(permission_classes: list[type]) -> MembershipRole | str:
    """The lowest role that may call a field, ``"user"`` for any role, or ``"platform"``."""
    for permission in permission_classes:
        if issubclass(permission, HasRole):
            return permission.minimum
        if issubclass(permission, IsPlatformAdmin):
            return "platform"
    if any(issubclass(p, IsUser | IsAuthenticated) for p in permission_classes):
        return "user"
    raise AssertionError("no permission class")


def operations() -> list[tuple[str, str, MembershipRole | str]]:
    """(field, document, requirement) for every query and mutation."""
    schema = build_schema(introspection=True)
    found = []
    for kind, root in (("query", schema.query), ("mutation", schema.mutation)):
        if root is None:
            continue
        graphql_root = (
            schema._schema.query_type if kind == "query" else schema._schema.mutation_type
        )
        assert graphql_root is not None
        for field in root.__strawberry_definition__.fields:
            name = schema.config.name_converter.get_graphql_name(field)
            graphql_field = graphql_root.fields[name]
            arguments = ", ".join(
                f"{arg}: {literal(definition.type)}"
                for arg, definition in graphql_field.args.items()
                if isinstance(definition.type, GraphQLNonNull)
            )
            call = f"{name}({arguments})" if arguments else name
            document = f"{kind} {{ result: {call}{selection(graphql_field.type)} }}"
            try:
                needed = requirement(list(field.permission_classes))
            except AssertionError:
                needed = "none"  # reported by the test
            found.append((f"{root.__name__}.{name}", document, needed))
    return found


def refused(body: dict[str, Any]) -> bool:
    errors = body.get("errors") or []
    return (
        bool(errors)
        and (body.get("data") or {}).get("result") is None
        and any(
            (e.get("extensions") or {}).get("code") in ("FORBIDDEN", "UNAUTHENTICATED")
            for e in errors
        )
    )


async def test_graphql_role_matrix(client: httpx.AsyncClient, tenant: Tenant) -> None:
    members = {role: await tenant.member(role.value) for role in ROLES}
    failures: list[str] = []
    found = operations()
    for key, document, needed in found:
        if needed == "none":
            failures.append(f"{key}: no permission class")
            continue
        anonymous = (await client.post("/graphql", json={"query": document})).json()
        if not refused(anonymous):
            failures.append(f"{key}: anonymous was not refused: {anonymous}")
        for role in ROLES:
            response = await client.post(
                "/graphql", json={"query": document}, headers=members[role].headers
            )
            body = response.json()
            if needed == "user":
                allowed = True
            elif needed == "platform":
                allowed = False
            else:
                assert isinstance(needed, MembershipRole)
                allowed = role_at_least(role, needed)
            if allowed and refused(body):
                failures.append(f"{key}: {role.value} was refused: {body}")
            if not allowed and not refused(body):
                failures.append(f"{key}: {role.value} was not refused: {body}")
    assert not failures, "\n".join(failures)
    # The matrix did run over the whole schema.
    assert len(found) >= 50
