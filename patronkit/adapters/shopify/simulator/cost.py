"""Query cost, calculated the way Shopify describes it, by walking the query's AST.

Cost model (documented here because Shopify publishes the rules, not the formula):
  * scalars, enums, money objects (MoneyV2, MoneyBag) and PageInfo cost 0;
  * any other object (or a plain list of objects) costs 1 plus its children;
  * a connection costs 2 plus `multiplier(first)` times the cost of one node, where
    multiplier(n) = 1 + ceil(1.125 * log2(n)) (and 0 for n = 0). Shopify's connections
    grow with log2 of the page size, not linearly; this formula reproduces the costs it
    reported: customers(first: 200){id updatedAt} = 12 and customers(first: 1){id} = 3;
  * every mutation field costs 10, whatever it selects.
The actual cost applies the same rules to the data returned, so a page with fewer nodes
than requested (or a null object) costs less and the difference is refunded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast,
)
from graphql.utilities import get_operation_ast

MUTATION_COST = 10
FREE_OBJECT_TYPES = frozenset({"MoneyV2", "MoneyBag", "PageInfo"})


def connection_multiplier(page_size: int) -> int:
    if page_size <= 0:
        return 0
    return 1 + math.ceil(1.125 * math.log2(page_size))


def _is_connection(named: GraphQLNamedType) -> bool:
    return named.name.endswith("Connection")


def _is_list(output_type: GraphQLOutputType) -> bool:
    inner = output_type.of_type if isinstance(output_type, GraphQLNonNull) else output_type
    return isinstance(inner, GraphQLList)


class SelectionWalker:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def fields(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
        """Every field under a selection set, with the type it was selected on."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on_type = self.schema.get_type(condition.name.value) if condition else parent
                yield from self.fields(selection.selection_set, on_type or parent)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    on_type = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self.fields(fragment.selection_set, on_type or parent)

    def page_size(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = value_from_ast(argument.value, GraphQLInt, self.variables)
                if isinstance(value, int):
                    return value
        return 1

    def field_type(self, field: FieldNode, parent: GraphQLNamedType) -> GraphQLOutputType | None:
        if field.name.value.startswith("__") or not isinstance(parent, GraphQLObjectType):
            return None
        definition = parent.fields.get(field.name.value)
        return definition.type if definition is not None else None

    def connection_nodes(
        self, field: FieldNode, connection: GraphQLNamedType
    ) -> Iterator[tuple[str, FieldNode, GraphQLNamedType]]:
        """('edges'|'nodes', node field, node type) pairs selected under a connection."""
        for sub, sub_parent in self.fields(field.selection_set, connection):
            sub_type = self.field_type(sub, sub_parent)
            if sub_type is None:
                continue
            named = get_named_type(sub_type)
            if sub.name.value == "nodes":
                yield "nodes", sub, named
            elif sub.name.value == "edges":
                for edge_field, edge_parent in self.fields(sub.selection_set, named):
                    if edge_field.name.value == "node":
                        node_type = self.field_type(edge_field, edge_parent)
                        if node_type is not None:
                            yield "edges", edge_field, get_named_type(node_type)

    # -- requested -------------------------------------------------------------------

    def requested(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        total = 0
        for field, on_type in self.fields(selection_set, parent):
            field_type = self.field_type(field, on_type)
            if field_type is None:
                continue
            named = get_named_type(field_type)
            if is_leaf_type(named) or named.name in FREE_OBJECT_TYPES:
                continue
            if _is_connection(named):
                node_cost = sum(
                    1 + self.requested(node_field.selection_set, node_type)
                    for _, node_field, node_type in self.connection_nodes(field, named)
                )
                total += 2 + connection_multiplier(self.page_size(field)) * node_cost
            else:
                total += 1 + self.requested(field.selection_set, named)
        return total

    # -- actual ----------------------------------------------------------------------

    def actual(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, data: Any
    ) -> int:
        if not isinstance(data, dict):
            return 0
        total = 0
        for field, on_type in self.fields(selection_set, parent):
            key = field.alias.value if field.alias else field.name.value
            field_type = self.field_type(field, on_type)
            value = data.get(key)
            if field_type is None or value is None:
                continue
            named = get_named_type(field_type)
            if is_leaf_type(named) or named.name in FREE_OBJECT_TYPES:
                continue
            if _is_connection(named):
                node_cost = 0
                count = 0
                for kind, node_field, node_type in self.connection_nodes(field, named):
                    container = value.get("edges" if kind == "edges" else "nodes") or []
                    nodes = [e.get("node") for e in container] if kind == "edges" else container
                    count = max(count, len(nodes))
                    per_node = [
                        1 + self.actual(node_field.selection_set, node_type, node) for node in nodes
                    ]
                    node_cost += max(per_node, default=0)
                total += 2 + connection_multiplier(count) * node_cost
            elif _is_list(field_type) and isinstance(value, list):
                per_item = [self.actual(field.selection_set, named, item) for item in value]
                total += 1 + max(per_item, default=0)
            else:
                total += 1 + self.actual(field.selection_set, named, value)
        return total


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise ValueError("no such operation")
    return operation


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType:
    root = schema.mutation_type if operation.operation == OperationType.MUTATION else None
    return root or schema.query_type  # type: ignore[return-value]


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> int:
    operation = _operation(document, operation_name)
    walker = SelectionWalker(schema, document, variables or {})
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(
            1 for _ in walker.fields(operation.selection_set, _root_type(schema, operation))
        )
    return walker.requested(operation.selection_set, _root_type(schema, operation))


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    data: dict[str, Any] | None,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> int:
    operation = _operation(document, operation_name)
    walker = SelectionWalker(schema, document, variables or {})
    root = _root_type(schema, operation)
    if operation.operation == OperationType.MUTATION:
        fields = list(walker.fields(operation.selection_set, root))
        executed = [
            f for f, _ in fields if (data or {}).get(f.alias.value if f.alias else f.name.value)
        ]
        return MUTATION_COST * len(executed)
    return walker.actual(operation.selection_set, root, data or {})
