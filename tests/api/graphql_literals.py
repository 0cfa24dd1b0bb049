"""GraphQL literals for generated tests: a value for any required argument, valid enough to get
past validation to the permission check (values a resolver then refuses are fine). Shared by the
role matrix, the tenant matrix and the viewer test."""

from __future__ import annotations

import uuid
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

SCALARS = {
    "String": '"x"',
    "Int": "1",
    "Float": "1.0",
    "Boolean": "false",
    "Date": '"2026-01-01"',
    "DateTime": '"2026-01-01T00:00:00Z"',
    "JSON": "{}",
}


def literal(graphql_type: Any) -> str:
    """A literal for a required argument: valid enough to get past validation to the
    permission check (values the resolver then refuses are fine)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return literal(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return f"[{literal(graphql_type.of_type)}]"
    if isinstance(graphql_type, GraphQLEnumType):
        return str(next(iter(graphql_type.values)))
    if isinstance(graphql_type, GraphQLInputObjectType):
        fields = [
            f"{name}: {literal(field.type)}"
            for name, field in graphql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(graphql_type, GraphQLScalarType)
    if graphql_type.name == "ID":
        return f'"{uuid.uuid4()}"'
    return SCALARS[graphql_type.name]
