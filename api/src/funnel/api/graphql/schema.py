"""The schema: every ``graphql/<domain>.py`` module's ``Query``, ``Mutation`` and
``Subscription`` merged into one root of each.

Adding a domain is adding a module; nothing here changes. Field names must be unique across
modules (the merge fails loudly at import otherwise).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types

from funnel.api.graphql import extensions

_INFRASTRUCTURE = frozenset(
    {"context", "errors", "extensions", "loaders", "permissions", "router", "schema"}
)


def domain_modules() -> list[Any]:
    package = importlib.import_module("funnel.api.graphql")
    return [
        importlib.import_module(f"funnel.api.graphql.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        if info.name not in _INFRASTRUCTURE and not info.name.startswith("_")
    ]


def _roots(kind: str) -> tuple[type, ...]:
    return tuple(getattr(m, kind) for m in domain_modules() if hasattr(m, kind))


def build_schema(*, introspection: bool) -> strawberry.Schema:
    queries, mutations, subscriptions = _roots("Query"), _roots("Mutation"), _roots("Subscription")
    # Factories, not instances: strawberry builds fresh extensions per operation.
    rules: list[Any] = [extensions.CostLimitRule]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extension_list: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=extensions.MAX_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=extensions.MAX_TOKENS),
        lambda: AddValidationRules(rules),
        extensions.TransactionOutcome,
        # The dashboard sends the same few documents all day: parse each once (the cache is
        # module-level, shared by every request).
        lambda: ParserCache(maxsize=256),
    ]
    return strawberry.Schema(
        query=merge_types("Query", queries),
        mutation=merge_types("Mutation", mutations) if mutations else None,
        subscription=merge_types("Subscription", subscriptions) if subscriptions else None,
        extensions=extension_list,
    )


def export_sdl() -> str:
    return build_schema(introspection=True).as_str() + "\n"
