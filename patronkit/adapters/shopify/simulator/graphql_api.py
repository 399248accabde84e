"""The GraphQL Admin API: schema from SDL, real parsing/validation/execution, cost and
throttling applied around each request the way Shopify applies them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
)
from graphql.utilities import get_operation_ast

from .context import RequestContext
from .cost import actual_cost, requested_cost
from .resolvers import MUTATION_RESOLVERS, QUERY_RESOLVERS
from .throttle import MAX_SINGLE_QUERY_COST

if TYPE_CHECKING:
    from .shop import Shop

RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"


@cache
def admin_schema() -> GraphQLSchema:
    """The schema, built once from schema.graphql with resolvers attached."""
    sdl = resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    schema = build_schema(sdl)
    for type_name, resolvers in (("Query", QUERY_RESOLVERS), ("Mutation", MUTATION_RESOLVERS)):
        root = schema.get_type(type_name)
        assert isinstance(root, GraphQLObjectType)
        for field_name, resolver in resolvers.items():
            root.fields[field_name].resolve = resolver
    # Shopify serializes UnsignedInt64 as a string, so JavaScript clients keep precision.
    unsigned = schema.get_type("UnsignedInt64")
    assert unsigned is not None
    # graphql-core 3.3 calls coerce_output_value; 3.2 called serialize.
    for hook in ("coerce_output_value", "serialize"):
        setattr(unsigned, hook, str)
    return schema


@dataclass
class GraphQLResponse:
    status: int
    body: dict[str, Any]


def _error_dicts(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [error.formatted for error in errors]  # type: ignore[misc]


class AdminGraphQL:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.schema = admin_schema()

    def execute_document(
        self,
        document: DocumentNode,
        context: RequestContext,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> ExecutionResult:
        """Run an already validated document; holds the shop lock for a consistent read."""
        with self.shop.state.lock:
            result = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
            )
        assert isinstance(result, ExecutionResult)
        return result

    def handle(self, payload: Any, context: RequestContext) -> GraphQLResponse:
        """One POST /graphql.json body -> HTTP status and JSON body."""
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return GraphQLResponse(
                400, {"errors": {"query": "Required parameter missing or invalid"}}
            )
        variables = payload.get("variables") or {}
        operation_name = payload.get("operationName") or None
        if not isinstance(variables, dict):
            return GraphQLResponse(400, {"errors": {"variables": "must be a JSON object"}})
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return GraphQLResponse(200, {"errors": _error_dicts([error])})
        validation_errors = validate(self.schema, document)
        if validation_errors:
            return GraphQLResponse(200, {"errors": _error_dicts(validation_errors)})
        if get_operation_ast(document, operation_name) is None:
            message = (
                f'Unknown operation named "{operation_name}".'
                if operation_name
                else "An operation name is required"
            )
            return GraphQLResponse(200, {"errors": [{"message": message}]})

        requested = requested_cost(self.schema, document, operation_name, variables)
        bucket = self.shop.bucket
        stats = self.shop.stats
        if requested > MAX_SINGLE_QUERY_COST:
            stats.count("max_cost_exceeded")
            return GraphQLResponse(200, self._max_cost_body(requested))
        if not bucket.try_take(requested):
            stats.count("throttled")
            return GraphQLResponse(200, self._throttled_body(requested))

        result = self.execute_document(document, context, variables, operation_name)
        actual = min(
            requested, actual_cost(self.schema, document, result.data, operation_name, variables)
        )
        bucket.give_back(requested - actual)
        stats.count("points_spent", actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = _error_dicts(list(result.errors))
        body["data"] = result.data
        extensions: dict[str, Any] = {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": bucket.status().as_extension(),
            }
        }
        if context.search_extensions:
            extensions["search"] = context.search_extensions
        body["extensions"] = extensions
        return GraphQLResponse(200, body)

    def _cost_extension(self, requested: int) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": self.shop.bucket.status().as_extension(),
            }
        }

    def _throttled_body(self, requested: int) -> dict[str, Any]:
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC},
                }
            ],
            "extensions": self._cost_extension(requested),
        }

    def _max_cost_body(self, requested: int) -> dict[str, Any]:
        message = (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({MAX_SINGLE_QUERY_COST}).\n\nSee {RATE_LIMITS_DOC} for more information on how the\n"
            "cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, "
            "bulk operations should be used instead.\nSee "
            "https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n"
        )
        return {
            "errors": [
                {
                    "message": message,
                    "extensions": {
                        "code": "MAX_COST_EXCEEDED",
                        "cost": requested,
                        "maxCost": MAX_SINGLE_QUERY_COST,
                        "documentation": RATE_LIMITS_DOC,
                    },
                }
            ],
            "extensions": self._cost_extension(requested),
        }
