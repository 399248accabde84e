"""Bulk operations for the initial import: start, poll until done, stream the JSONL result.

The result file can hold millions of customers, so it is read line by line from a streamed
response and never held in memory. Its signed URL grants access to customer data without
any other credential: it is kept out of ``repr``, exceptions and logs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from patronkit.adapters.shopify import queries
from patronkit.adapters.shopify.graphql_client import (
    Clock,
    ShopifyError,
    ShopifyGraphQLClient,
    Sleep,
)

logger = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
DEFAULT_WAIT_TIMEOUT_SECONDS = 6 * 3600.0
DEFAULT_DOWNLOAD_TIMEOUT: tuple[float, float] = (10.0, 120.0)  # (connect, read per chunk)
_CHUNK_SIZE = 64 * 1024


class BulkOperationError(ShopifyError):
    """Base class for bulk operation failures."""


class BulkOperationRejected(BulkOperationError):
    """bulkOperationRunQuery answered userErrors (invalid query, one already running, ...)."""

    def __init__(self, message: str, user_errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.user_errors = user_errors


class BulkOperationFailed(BulkOperationError):
    """The operation ended FAILED, CANCELED or EXPIRED."""

    def __init__(self, message: str, operation: BulkOperation) -> None:
        super().__init__(message)
        self.operation = operation


class BulkOperationTimeout(BulkOperationError):
    """The operation was still running when the wait timed out (it is not cancelled)."""


class BulkResultError(BulkOperationError):
    """The result file could not be downloaded or has a malformed line."""


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = field(default=None, repr=False)  # null when objectCount is 0
    partial_data_url: str | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_graphql(cls, node: Mapping[str, Any]) -> BulkOperation:
        # UnsignedInt64 fields (objectCount, fileSize) are serialized as strings.
        return cls(
            id=str(node["id"]),
            status=str(node["status"]),
            error_code=node.get("errorCode"),
            object_count=int(node.get("objectCount") or 0),
            root_object_count=int(node.get("rootObjectCount") or 0),
            file_size=int(node["fileSize"]) if node.get("fileSize") is not None else None,
            url=node.get("url"),
            partial_data_url=node.get("partialDataUrl"),
        )


def start_bulk_query(
    client: ShopifyGraphQLClient, query: str, *, group_objects: bool = False
) -> BulkOperation:
    """Run ``bulkOperationRunQuery``; raise `BulkOperationRejected` on userErrors."""
    result = client.execute(
        queries.BULK_OPERATION_RUN_QUERY, {"query": query, "groupObjects": group_objects}
    )
    user_errors = result.user_errors("bulkOperationRunQuery")
    if user_errors:
        codes = ", ".join(str(error.get("code") or error.get("message")) for error in user_errors)
        raise BulkOperationRejected(f"bulk query rejected: {codes}", user_errors)
    payload = result.data.get("bulkOperationRunQuery") or {}
    operation = payload.get("bulkOperation")
    if not isinstance(operation, Mapping):
        raise BulkOperationError("bulkOperationRunQuery returned no operation")
    return BulkOperation(id=str(operation["id"]), status=str(operation["status"]))


def fetch_bulk_operation(client: ShopifyGraphQLClient, operation_id: str) -> BulkOperation:
    node = client.execute(queries.BULK_OPERATION_STATUS, {"id": operation_id}).data.get("node")
    if not isinstance(node, Mapping) or "status" not in node:
        raise BulkOperationError(f"bulk operation {operation_id} not found")
    return BulkOperation.from_graphql(node)


def current_bulk_operation(client: ShopifyGraphQLClient) -> BulkOperation | None:
    """The app's most recent bulk query on this shop, if any (to resume after a restart)."""
    node = client.execute(queries.CURRENT_BULK_OPERATION).data.get("currentBulkOperation")
    return BulkOperation.from_graphql(node) if isinstance(node, Mapping) else None


def wait_for_bulk_operation(
    client: ShopifyGraphQLClient,
    operation_id: str,
    *,
    timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
    initial_interval: float = 1.0,
    max_interval: float = 30.0,
    multiplier: float = 1.5,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> BulkOperation:
    """Poll until COMPLETED (returned) or FAILED/CANCELED/EXPIRED (`BulkOperationFailed`)."""
    deadline = clock() + timeout_seconds
    interval = initial_interval
    while True:
        operation = fetch_bulk_operation(client, operation_id)
        if operation.status == "COMPLETED":
            return operation
        if operation.done:
            raise BulkOperationFailed(
                f"bulk operation {operation.id} ended {operation.status}"
                f" ({operation.error_code or 'no error code'})",
                operation,
            )
        remaining = deadline - clock()
        if remaining <= 0:
            raise BulkOperationTimeout(
                f"bulk operation {operation.id} still {operation.status} after {timeout_seconds}s"
            )
        logger.debug(
            "bulk operation %s %s, %d objects",
            operation.id,
            operation.status,
            operation.object_count,
        )
        sleep(min(interval, remaining))
        interval = min(interval * multiplier, max_interval)


def stream_jsonl(
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = DEFAULT_DOWNLOAD_TIMEOUT,
) -> Iterator[dict[str, Any]]:
    """Yield one parsed object per line of the JSONL file at ``url``, streaming.

    No Shopify token is sent: the URL is pre-signed storage.
    """
    http = session or requests.Session()
    try:
        try:
            response = http.get(url, stream=True, timeout=timeout)
        except requests.RequestException as exc:
            raise BulkResultError(f"bulk result download failed: {type(exc).__name__}") from None
        with response:
            if response.status_code >= 400:
                raise BulkResultError(f"bulk result download answered {response.status_code}")
            line_number = 0
            try:
                for line in response.iter_lines(chunk_size=_CHUNK_SIZE):
                    line_number += 1
                    if line.strip():
                        yield _parse_line(line, line_number)
            except requests.RequestException as exc:
                raise BulkResultError(
                    f"bulk result download broke after line {line_number}: {type(exc).__name__}"
                ) from None
    finally:
        if session is None:
            http.close()


def run_bulk_query(
    client: ShopifyGraphQLClient,
    query: str,
    *,
    group_objects: bool = False,
    timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
    download_session: requests.Session | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Start a bulk query, wait for it, and yield its result objects one by one."""
    started = start_bulk_query(client, query, group_objects=group_objects)
    operation = wait_for_bulk_operation(
        client, started.id, timeout_seconds=timeout_seconds, clock=clock, sleep=sleep
    )
    if operation.url is None:
        return  # objectCount 0: Shopify writes no file
    yield from stream_jsonl(operation.url, session=download_session)


def group_children(
    records: Iterable[dict[str, Any]],
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Pair each parent line with the child lines (``__parentId``) that follow it.

    For a query with one nested connection, run with ``group_objects=True`` so children
    come right after their parent; only one parent's children are held at a time.
    """
    parent: dict[str, Any] | None = None
    children: list[dict[str, Any]] = []
    for record in records:
        parent_id = record.get("__parentId")
        if parent_id is None:
            if parent is not None:
                yield parent, children
            parent, children = record, []
        elif parent is not None and parent_id == parent.get("id"):
            children.append(record)
        else:
            raise BulkResultError(
                "child line does not follow its parent; run the query with group_objects=True"
            )
    if parent is not None:
        yield parent, children


def _parse_line(line: bytes, line_number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise BulkResultError(f"bulk result line {line_number} is not JSON") from None
    if not isinstance(record, dict):
        raise BulkResultError(f"bulk result line {line_number} is not a JSON object")
    return record
