"""Bulk query operations: validate, run in the background, stream results to JSONL.

The query runs page by page through the same resolvers as ordinary requests (so the
data is identical), and every page is written to a file as soon as it is produced; the
file is then streamed to the client in chunks. Nested connection nodes become their own
lines carrying `__parentId`, written after their parent, as Shopify documents.
The root connection resumes from the previous page's cursor, which the resolvers bisect to
in the shop's sorted indexes (`index.py`), so each page costs the same however far along.
Bulk operations do not draw on the rate-limit bucket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    validate,
)

from .actions import UserErrors
from .context import BulkPaging, RequestContext
from .cost import SelectionWalker
from .formats import gid, now_utc, shopify_json_bytes
from .state import BulkOperation

if TYPE_CHECKING:
    from .shop import Shop

MAX_CONNECTIONS = 5
MAX_NESTING_DEPTH = 2
PAGE_SIZE = 250
ACTIVE_STATUSES = ("CREATED", "RUNNING", "CANCELING")


@dataclass
class ConnectionShape:
    """Where a connection sits in a node and which connections its own nodes hold."""

    key: str
    via_edges: bool
    nested: list[ConnectionShape] = field(default_factory=list)

    def nodes(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, dict):
            return []
        if self.via_edges:
            return [edge["node"] for edge in value.get("edges") or [] if edge.get("node")]
        return [node for node in value.get("nodes") or [] if node]


def _invalid(message: str) -> UserErrors:
    return UserErrors([{"field": ["query"], "message": message, "code": "INVALID"}])


class _ShapeBuilder:
    def __init__(self, walker: SelectionWalker) -> None:
        self.walker = walker
        self.count = 0

    def connections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, depth: int
    ) -> list[ConnectionShape]:
        shapes: list[ConnectionShape] = []
        for field_node, on_type in self.walker.fields(selection_set, parent):
            field_type = self.walker.field_type(field_node, on_type)
            if field_type is None:
                continue
            named = get_named_type(field_type)
            if not named.name.endswith("Connection"):
                continue
            self.count += 1
            if depth > MAX_NESTING_DEPTH:
                raise _invalid(
                    "Bulk queries cannot contain connections with a nesting depth greater "
                    f"than {MAX_NESTING_DEPTH}."
                )
            node_fields = list(self.walker.connection_nodes(field_node, named))
            if not node_fields:
                raise _invalid(
                    "Bulk queries must select edges { node } or nodes on every connection."
                )
            kind, node_field, node_type = node_fields[0]
            selects_id = any(
                f.name.value == "id" and f.alias is None
                for f, _ in self.walker.fields(node_field.selection_set, node_type)
            )
            nested = self.connections(node_field.selection_set, node_type, depth + 1)
            if nested and not selects_id:
                raise _invalid(
                    "The parent 'node' field for a nested connection must select the 'id' "
                    "field without an alias."
                )
            key = field_node.alias.value if field_node.alias else field_node.name.value
            shapes.append(ConnectionShape(key, kind == "edges", nested))
        return shapes


def plan_bulk_query(shop: Shop, query: str) -> tuple[DocumentNode, ConnectionShape]:
    """Parse and check a bulk query the way bulkOperationRunQuery does."""
    schema = shop.graphql.schema
    try:
        document = parse(query)
    except GraphQLError as error:
        raise _invalid(f"Invalid bulk query: {error.message}") from error
    errors = validate(schema, document)
    if errors:
        raise _invalid(f"Invalid bulk query: {errors[0].message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        raise _invalid("Bulk queries must contain exactly one query operation.")
    query_type = schema.query_type
    assert isinstance(query_type, GraphQLObjectType)
    walker = SelectionWalker(schema, document, {})
    builder = _ShapeBuilder(walker)
    roots = builder.connections(operations[0].selection_set, query_type, 1)
    top_level = list(walker.fields(operations[0].selection_set, query_type))
    if builder.count == 0:
        raise _invalid("Bulk queries must contain at least one connection.")
    if builder.count > MAX_CONNECTIONS:
        raise _invalid(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if len(roots) != 1 or len(top_level) != 1:
        raise _invalid("Bulk queries must contain exactly one top-level connection field.")
    return document, roots[0]


class JsonlWriter:
    """Writes one object per line, nested connection nodes after their parent."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.objects = 0
        self.roots = 0

    def write_node(
        self, node: dict[str, Any], shape: ConnectionShape, parent_id: str | None
    ) -> None:
        line = {k: v for k, v in node.items() if k not in {s.key for s in shape.nested}}
        if parent_id is not None:
            line["__parentId"] = parent_id
        else:
            self.roots += 1
        self.out.write(shopify_json_bytes(line) + b"\n")
        self.objects += 1
        for nested in shape.nested:
            for child in nested.nodes(node.get(nested.key)):
                self.write_node(child, nested, node.get("id"))


class BulkRunner:
    def __init__(self, shop: Shop, duration_seconds: float = 0.5) -> None:
        self.shop = shop
        self.duration_seconds = duration_seconds
        self.directory = tempfile.mkdtemp(prefix="shopify-sim-bulk-")
        self._cancel_requested: set[int] = set()
        self._threads: list[threading.Thread] = []

    def current(self) -> BulkOperation | None:
        with self.shop.state.lock:
            operations = self.shop.state.bulk_operations
            return operations[max(operations)] if operations else None

    def start(self, query: str, scopes: frozenset[str], base_url: str) -> BulkOperation:
        document, shape = plan_bulk_query(self.shop, query)
        state = self.shop.state
        with state.lock:
            current = self.current()
            if current is not None and current.status in ACTIVE_STATUSES:
                raise UserErrors(
                    [
                        {
                            "field": None,
                            "message": "A bulk query operation for this app and shop is "
                            f"already in progress: {gid('BulkOperation', current.id)}",
                            "code": "OPERATION_IN_PROGRESS",
                        }
                    ]
                )
            operation = BulkOperation(state.next_id(), query, "CREATED", now_utc())
            state.bulk_operations[operation.id] = operation
        context = RequestContext(self.shop, scopes, base_url, bulk=BulkPaging(PAGE_SIZE))
        thread = threading.Thread(
            target=self._run,
            args=(operation, document, shape, context),
            name=f"sim-bulk-{operation.id}",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()
        return operation

    def cancel(self, operation_id: int) -> BulkOperation:
        with self.shop.state.lock:
            operation = self.shop.state.bulk_operations.get(operation_id)
            if operation is None:
                raise UserErrors(
                    [
                        {
                            "field": ["id"],
                            "message": "Bulk operation does not exist",
                            "code": "INVALID",
                        }
                    ]
                )
            if operation.status not in ACTIVE_STATUSES:
                raise UserErrors(
                    [
                        {
                            "field": None,
                            "message": "A bulk operation cannot be canceled when it is "
                            + operation.status.lower(),
                            "code": "INVALID",
                        }
                    ]
                )
            operation.status = "CANCELING"
            self._cancel_requested.add(operation_id)
            return operation

    def file_path(self, operation_id: int) -> str | None:
        with self.shop.state.lock:
            operation = self.shop.state.bulk_operations.get(operation_id)
            return operation.file_path if operation and operation.status == "COMPLETED" else None

    def _set(self, operation: BulkOperation, **changes: Any) -> None:
        with self.shop.state.lock:
            for key, value in changes.items():
                setattr(operation, key, value)

    def _run(
        self,
        operation: BulkOperation,
        document: DocumentNode,
        shape: ConnectionShape,
        context: RequestContext,
    ) -> None:
        started = time.monotonic()
        time.sleep(self.duration_seconds * 0.1)
        self._set(operation, status="RUNNING")
        path = os.path.join(self.directory, f"{operation.id}.jsonl")
        assert context.bulk is not None
        try:
            with open(path, "wb") as out:
                writer = JsonlWriter(out)
                while True:
                    if operation.id in self._cancel_requested:
                        self._set(operation, status="CANCELED", completed_at=now_utc())
                        return
                    result = self.shop.graphql.execute_document(document, context)
                    if result.errors:
                        code = (result.errors[0].extensions or {}).get("code")
                        error_code = (
                            "ACCESS_DENIED" if code == "ACCESS_DENIED" else "INTERNAL_SERVER_ERROR"
                        )
                        self._set(
                            operation,
                            status="FAILED",
                            error_code=error_code,
                            completed_at=now_utc(),
                        )
                        return
                    for node in shape.nodes((result.data or {}).get(shape.key)):
                        writer.write_node(node, shape, None)
                    if not context.bulk.has_next_page:
                        break
                    context.bulk.after = context.bulk.end_cursor
        except Exception:  # a crash here must surface as FAILED, like Shopify's own errors
            self._set(
                operation,
                status="FAILED",
                error_code="INTERNAL_SERVER_ERROR",
                completed_at=now_utc(),
            )
            return
        remaining = self.duration_seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        url = f"{context.base_url}/_simulator/bulk/{operation.id}.jsonl" if writer.objects else None
        self._set(
            operation,
            status="COMPLETED",
            completed_at=now_utc(),
            object_count=writer.objects,
            root_object_count=writer.roots,
            file_size=os.path.getsize(path) if writer.objects else None,
            url=url,
            file_path=path,
        )

    def close(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)
        with contextlib.suppress(OSError):
            shutil.rmtree(self.directory)
