"""Relay connections with Shopify-style opaque cursors (base64 of last_id/last_value)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

T = TypeVar("T")
SortValue = int | str
MAX_PAGE_SIZE = 250


def encode_cursor(key: tuple[SortValue, int]) -> str:
    raw = json.dumps({"last_id": key[1], "last_value": key[0]}, separators=(",", ":"))
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str) -> tuple[SortValue, int]:
    try:
        data = json.loads(base64.b64decode(cursor.encode("ascii"), validate=True))
        value = data["last_value"]
        last_id = data["last_id"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise GraphQLError("Invalid cursor for current pagination sort.") from error
    if not isinstance(last_id, int) or not isinstance(value, int | str):
        raise GraphQLError("Invalid cursor for current pagination sort.")
    return value, last_id


def check_page_arguments(first: int | None, last: int | None) -> None:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise GraphQLError(
                f"Invalid value for argument '{name}': must be between 0 and {MAX_PAGE_SIZE}."
            )


def connection(
    items: Sequence[T],
    *,
    key: Callable[[T], tuple[SortValue, int]],
    view: Callable[[T], dict[str, Any]] | None = None,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    reverse: bool = False,
) -> dict[str, Any]:
    """One page of `items`, which must already be sorted in the requested order."""

    def comes_after(item_key: tuple[SortValue, int], cursor: tuple[SortValue, int]) -> bool:
        return item_key < cursor if reverse else item_key > cursor

    selected = list(items)
    if after is not None:
        after_key = decode_cursor(after)
        selected = [item for item in selected if comes_after(key(item), after_key)]
    if before is not None:
        before_key = decode_cursor(before)
        selected = [item for item in selected if comes_after(before_key, key(item))]
    has_next = has_previous = False
    if first is not None:
        has_next = len(selected) > first
        selected = selected[:first]
        has_previous = after is not None
    if last is not None:
        has_previous = len(selected) > last
        selected = selected[len(selected) - last :] if last else []
        has_next = has_next or before is not None
    render = view or (lambda item: item)  # type: ignore[return-value]
    edges = [{"cursor": encode_cursor(key(item)), "node": render(item)} for item in selected]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
