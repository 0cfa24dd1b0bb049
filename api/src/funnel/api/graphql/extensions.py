"""Schema extensions: limits, error masking and the transaction outcome."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

#: Deep enough for conversation → messages → trace → stages, and no deeper.
MAX_DEPTH = 10
#: Tokens in one document: bounds parsing work before any validation runs.
MAX_TOKENS = 2_000
#: Rough cost ceiling: each field costs 1, multiplied by the page size of every list above it.
MAX_COST = 20_000
#: Page-size arguments the cost estimator reads, and the default when none is given.
PAGE_ARGUMENTS = ("first", "last", "limit")
DEFAULT_PAGE = 20


def _page_size(field: FieldNode, variables: dict[str, object]) -> int:
    for argument in field.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            value = argument.value
            raw: object = getattr(value, "value", None)
            if value.kind == "variable":
                raw = variables.get(value.name.value)  # type: ignore[attr-defined]
            if isinstance(raw, (int, str)):
                try:
                    return max(1, int(raw))
                except ValueError:
                    return DEFAULT_PAGE
            return DEFAULT_PAGE
    return 1


class CostLimitRule(ValidationRule):
    """Rejects operations whose estimated cost is above :data:`MAX_COST`.

    An estimate, not an accounting: it stops the pathological query (nested pages of pages) at
    validation time, before a single resolver runs.
    """

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        context: ValidationContext = self.context
        fragments = {
            d.name.value: d
            for d in context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        cost = self._cost(node.selection_set, fragments, 1, set())
        if cost > MAX_COST:
            context.report_error(
                GraphQLError(f"query is too expensive (estimated cost {cost} > {MAX_COST})", node)
            )

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        fragments: dict[str, FragmentDefinitionNode],
        multiplier: int,
        seen: set[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in _selections(selection_set, fragments, seen):
            size = _page_size(selection, {})
            total += multiplier + self._cost(
                selection.selection_set, fragments, multiplier * size, seen
            )
            if total > MAX_COST:
                return total
        return total


def _selections(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _selections(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            # A fragment cycle is a validation error of its own; do not loop on it here.
            if fragment is not None and name not in seen:
                yield from _selections(fragment.selection_set, fragments, seen | {name})


class TransactionOutcome(SchemaExtension):
    """Marks the context failed when the operation produced errors, so the request's session is
    rolled back instead of committed (a resolver error must not half-apply a mutation)."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            context = self.execution_context.context
            if hasattr(context, "failed"):
                context.failed = True
