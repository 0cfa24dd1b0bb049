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
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationContext, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator
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


class DepthLimitRule(ValidationRule):
    """strawberry's depth limit as one rule class for every request (``QueryDepthLimiter`` makes
    a new class per request, which no validation cache can match), reading the limit when a
    document is validated."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        # strawberry's rule does its whole check in its constructor, reporting on ``context``.
        create_validator(extensions.MAX_DEPTH, None, None)(context)


DEPTH_RULE = DepthLimitRule


def build_schema(*, introspection: bool) -> strawberry.Schema:
    queries, mutations, subscriptions = _roots("Query"), _roots("Mutation"), _roots("Subscription")
    # Factories, not instances: strawberry builds fresh extensions per operation.
    # The same rule classes for every request (QueryDepthLimiter would make a new depth rule
    # class per request), so a document's validation result can be cached.
    rules: list[Any] = [DEPTH_RULE, extensions.CostLimitRule]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extension_list: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=extensions.MAX_TOKENS),
        lambda: AddValidationRules(rules),
        extensions.TransactionOutcome,
        # The dashboard sends the same few documents all day: parse and validate each once
        # (both caches are module-level, shared by every request; validation does not depend on
        # who asks, permissions are checked per field when it runs).
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    return strawberry.Schema(
        query=merge_types("Query", queries),
        mutation=merge_types("Mutation", mutations) if mutations else None,
        subscription=merge_types("Subscription", subscriptions) if subscriptions else None,
        extensions=extension_list,
    )


def export_sdl() -> str:
    return build_schema(introspection=True).as_str() + "\n"
