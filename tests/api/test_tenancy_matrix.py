"""The cross-tenant matrix, generated from the route table and the GraphQL schema.

For every REST route with an object id in its path, and every GraphQL query or mutation argument
that takes one, organisation B's owner (the strongest role, so no role check can hide a leak) is
pointed at organisation A's object: the answer must be 404 or 403 and must not contain the id.
A route or argument the registry in ``tests/api/tenancy.py`` does not know fails the test.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import strawberry
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, get_named_type

from funnel.api.graphql.schema import build_schema
from tests.api.conftest import Tenant
from tests.api.graphql_literals import literal as input_literal
from tests.api.tenancy import GRAPHQL_ID_ARGUMENTS, World

_PARAM = re.compile(r"{([a-z_]+)}")


def id_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    routes = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and _PARAM.search(context.path):
            routes += [(method, context.path, route) for method in sorted(route.methods)]
    return routes


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        spec = schema["components"]["schemas"][name]
    return spec


def minimal_body(openapi: dict[str, Any], method: str, path: str) -> Any:
    """A body the route will accept, so validation cannot answer before the tenant check: the
    model's first example, else its required fields filled by type."""
    operation = openapi["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    return _sample(openapi, content["schema"])


def _sample(openapi: dict[str, Any], spec: dict[str, Any]) -> Any:
    spec = _resolve(openapi, spec)
    if spec.get("examples"):
        return spec["examples"][0]
    if "anyOf" in spec:
        return _sample(openapi, next(s for s in spec["anyOf"] if s.get("type") != "null"))
    if "enum" in spec:
        return spec["enum"][0]
    kind = spec.get("type")
    if kind == "object" or "properties" in spec:
        return {
            name: _sample(openapi, spec["properties"][name]) for name in spec.get("required", [])
        }
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, spec.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if spec.get("format") == "uuid":
        return str(uuid.uuid4())
    return "x" * max(1, spec.get("minLength", 1))


async def test_rest_routes_never_serve_another_organisations_objects(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    world = World(client=client, app=api_app, a=tenant)
    openapi = api_app.openapi()
    failures: list[str] = []
    for method, path, _route in id_routes(api_app):
        concrete = path
        ids: list[str] = []
        for param in _PARAM.findall(path):
            try:
                object_id = str(await world.get(param))
            except LookupError:
                failures.append(
                    f"{method} {path}: no factory for {{{param}}} in tests/api/tenancy.py"
                )
                break
            ids.append(object_id)
            concrete = concrete.replace(f"{{{param}}}", object_id)
        else:
            body = minimal_body(openapi, method, path)
            response = await client.request(
                method,
                concrete,
                json=body if body is not None else None,
                headers=other_tenant.owner.headers,
            )
            if response.status_code not in (403, 404):
                failures.append(
                    f"{method} {path}: B got {response.status_code}: {response.text[:200]}"
                )
            elif any(i in response.text for i in ids):
                failures.append(f"{method} {path}: the refusal echoes A's id")
    assert not failures, "\n".join(failures)
    # The matrix did run: this suite has at least the users, invitations, channels and keys.
    assert len(id_routes(api_app)) >= 6


def _id_arguments(schema: strawberry.Schema) -> list[tuple[str, str, str]]:
    found = []
    graphql_schema = schema._schema
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        if not isinstance(root, GraphQLObjectType):
            continue
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                if get_named_type(arg.type).name == "ID":
                    found.append((root.name, field_name, arg_name))
    return found


async def test_graphql_never_serves_another_organisations_objects(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    world = World(client=client, app=api_app, a=tenant)
    schema = build_schema(introspection=True)
    arguments = _id_arguments(schema)
    assert arguments, "the schema has no id arguments: the matrix would test nothing"
    failures: list[str] = []
    for type_name, field_name, arg_name in arguments:
        key = f"{type_name}.{field_name}.{arg_name}"
        kind = GRAPHQL_ID_ARGUMENTS.get(key)
        if kind is None:
            failures.append(f"{key}: not in tests/api/tenancy.py GRAPHQL_ID_ARGUMENTS")
            continue
        field = getattr(schema._schema, f"{type_name.lower()}_type").fields[field_name]
        extra = []
        for name, argument in field.args.items():
            if name == arg_name or not isinstance(argument.type, GraphQLNonNull):
                continue
            # Scalars and enums here; input objects get their required fields filled.
            literal = _literal(argument.type) or input_literal(argument.type)
            if literal is None:
                failures.append(f"{key}: cannot fill required argument {name}; add a case")
                break
            extra.append(f"{name}: {literal}")
        else:
            object_id = str(await world.get(kind))
            operation = "mutation" if type_name == "Mutation" else "query"
            arguments_text = ", ".join([f"{arg_name}: $v", *extra])
            document = (
                f"{operation}($v: ID!) {{ result: {field_name}({arguments_text}) "
                "{ __typename } }"
            )
            response = await client.post(
                "/graphql",
                json={"query": document, "variables": {"v": object_id}},
                headers=other_tenant.owner.headers,
            )
            body = response.json()
            result = (body.get("data") or {}).get("result")
            typename = str((result or {}).get("__typename", ""))
            if (
                result is not None and not typename.endswith("Error")
            ) or object_id in response.text:
                failures.append(f"{key}: B received {body}")
    assert not failures, "\n".join(failures)


def _literal(graphql_type: Any) -> str | None:
    """A GraphQL literal for a required scalar or enum argument, or None."""
    named = get_named_type(graphql_type)
    if isinstance(named, GraphQLEnumType):
        return str(next(iter(named.values)))
    literals = {"String": '"x"', "Int": "1", "Float": "1.0", "Boolean": "false", "ID": '"x"'}
    return literals.get(named.name)
