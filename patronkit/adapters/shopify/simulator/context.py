"""Per-request context handed to resolvers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from graphql import GraphQLError, GraphQLResolveInfo

if TYPE_CHECKING:
    from .shop import Shop

ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"


@dataclass
class BulkPaging:
    """Set while a bulk operation runs its query page by page."""

    page_size: int
    after: str | None = None
    # written back by the root connection resolver after each page
    end_cursor: str | None = None
    has_next_page: bool = False


@dataclass
class RequestContext:
    shop: Shop
    scopes: frozenset[str]
    base_url: str
    bulk: BulkPaging | None = None
    search_extensions: list[dict[str, Any]] = field(default_factory=list)

    def has_scope(self, scope: str) -> bool:
        if scope in self.scopes:
            return True
        # write_x implies read_x, as Shopify documents.
        return scope.startswith("read_") and "write_" + scope[5:] in self.scopes


# The info object resolvers receive, typed with our context.
Info: TypeAlias = "GraphQLResolveInfo[RequestContext]"


def context_of(info: Info) -> RequestContext:
    return info.context


def require_scope(info: Info, scope: str) -> RequestContext:
    context = context_of(info)
    if not context.has_scope(scope):
        required = f"`{scope}` access scope."
        raise GraphQLError(
            f"Access denied for {info.field_name} field. Required access: {required}",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": ACCESS_SCOPES_DOC,
                "requiredAccess": required,
            },
        )
    return context
