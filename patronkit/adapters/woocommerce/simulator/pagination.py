"""Collection paging as the WooCommerce controllers do it: page/per_page/offset in,
X-WP-Total, X-WP-TotalPages and a Link header with only rel="prev" and rel="next" out.

The Link URLs repeat every query parameter of the request unencoded, OAuth ones included
(add_query_arg() does not encode): follow them only after re-signing, or use `page`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import invalid_param

T = TypeVar("T")

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PageArgs:
    page: int
    per_page: int
    offset: int | None


def int_param(params: dict[str, Any], name: str, default: int | None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.", "rest_invalid_type") from None


def page_args(params: dict[str, Any]) -> PageArgs:
    per_page = int_param(params, "per_page", DEFAULT_PER_PAGE) or 0
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise invalid_param(
            "per_page",
            f"per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)",
            "rest_out_of_bounds",
        )
    page = int_param(params, "page", 1) or 0
    if page < 1:
        raise invalid_param("page", "page must be greater than or equal to 1", "rest_out_of_bounds")
    offset = int_param(params, "offset", None)
    return PageArgs(page, per_page, abs(offset) if offset else None)


@dataclass
class Page:
    items: list[Any]
    total: int
    total_pages: int
    page: int


def paginate(records: Sequence[T], args: PageArgs) -> Page:
    start = args.offset if args.offset is not None else (args.page - 1) * args.per_page
    total = len(records)
    # The page number headers are computed from the offset, as the controllers do.
    page = math.ceil(start / args.per_page + 1) if args.offset is not None else args.page
    return Page(
        items=list(records[start : start + args.per_page]),
        total=total,
        total_pages=math.ceil(total / args.per_page),
        page=page,
    )


def _with_page(base_pairs: list[tuple[str, str]], page: int) -> list[tuple[str, str]]:
    pairs = [(k, str(page) if k == "page" else v) for k, v in base_pairs]
    if not any(k == "page" for k, _ in pairs):
        pairs.append(("page", str(page)))
    return pairs


def page_headers(
    result: Page, collection_url: str, query_pairs: list[tuple[str, str]]
) -> dict[str, str]:
    headers = {"X-WP-Total": str(result.total), "X-WP-TotalPages": str(result.total_pages)}
    links = []

    def url(page: int) -> str:
        query = "&".join(f"{k}={v}" for k, v in _with_page(query_pairs, page))
        return f"{collection_url}?{query}"

    if result.page > 1:
        links.append(f'<{url(min(result.page - 1, result.total_pages))}>; rel="prev"')
    if result.total_pages > result.page:
        links.append(f'<{url(result.page + 1)}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def php_query_pairs(raw_pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """$_GET's order and values: first position of each name, last value wins."""
    merged: dict[str, str] = {}
    for key, value in raw_pairs:
        merged[key] = value
    return list(merged.items())
