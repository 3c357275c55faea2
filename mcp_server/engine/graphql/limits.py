"""How deep and how costly a GraphQL operation may be, as Appwrite 1.9.6 bounds it (app/controllers/api/graphql.php,
its `schema` resource): at most 3 levels of fields below the root, and a complexity of at most 250, where a field
costs 1 plus what its selections cost, and a list operation (one that takes `queries`) costs what its selections
cost times the number of items it may return (its `limit` query, else 25). Depth counts as graphql-php counts it:
the levels of fields that have selections, the root field's being 0. Introspection fields (`__schema`,
`__type`) are free and unbounded, as introspection is allowed.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
)

MAX_DEPTH = 3
MAX_COMPLEXITY = 250
DEFAULT_LIMIT = 25


class Measure:
    """Walks one operation's selections, following fragments (cycles are refused by validation beforehand)."""

    def __init__(
        self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any], listing: set[str]
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.listing = listing

    def fields(self, selections: SelectionSetNode | None):
        """The fields of a selection set, fragments opened."""
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    yield from self.fields(fragment.selection_set)

    def depth(self, selections: SelectionSetNode | None) -> int:
        return max((1 + self.depth(field.selection_set) for field in self.fields(selections)), default=0)

    def complexity(self, selections: SelectionSetNode | None) -> int:
        total = 0
        for field in self.fields(selections):
            inner = self.complexity(field.selection_set)
            if field.name.value in self.listing:
                queries = next((arg.value for arg in field.arguments or () if arg.name.value == "queries"), None)
                total += inner * self.limit(queries)
            else:
                total += 1 + inner
        return total

    def limit(self, node: Any) -> int:
        """The `limit` a `queries` argument asks for (a literal list, or a variable's), else Appwrite's default."""
        values = (self.variables or {}).get(node.name.value) if isinstance(node, VariableNode) else None
        if isinstance(node, ListValueNode):
            values = [item.value for item in node.values if isinstance(item, StringValueNode)]
        for text in values if isinstance(values, list) else ():
            try:
                query = json.loads(text) if isinstance(text, str) else None
            except ValueError:
                continue
            if isinstance(query, dict) and query.get("method") == "limit":
                found = query.get("values")
                if isinstance(found, list) and found and isinstance(found[0], int) and found[0] > 0:
                    return found[0]
        return DEFAULT_LIMIT


def check_limits(
    operation: OperationDefinitionNode, fragments: dict, variables: dict[str, Any], listing: set[str]
) -> list[GraphQLError]:
    """The errors of an operation too deep or too complex (none when it is within bounds); `listing` names the
    fields of list operations."""
    measure = Measure(fragments, variables, listing)
    errors = []
    depth = max(measure.depth(operation.selection_set) - 2, 0)
    if depth > MAX_DEPTH:
        errors.append(GraphQLError(f"Max query depth should be {MAX_DEPTH} but got {depth}."))
    complexity = measure.complexity(operation.selection_set)
    if complexity > MAX_COMPLEXITY:
        errors.append(GraphQLError(f"Max query complexity should be {MAX_COMPLEXITY} but got {complexity}."))
    return errors
