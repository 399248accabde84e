import io
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from patronkit.adapters.shopify import queries
from patronkit.adapters.shopify.bulk import (
    BulkOperation,
    BulkOperationFailed,
    BulkOperationRejected,
    BulkOperationTimeout,
    BulkResultError,
    current_bulk_operation,
    group_children,
    run_bulk_query,
    start_bulk_query,
    stream_jsonl,
    wait_for_bulk_operation,
)
from patronkit.adapters.shopify.graphql_client import CostLimiter, ShopifyGraphQLClient

BASE_URL = "http://127.0.0.1:8765"
ENDPOINT = f"{BASE_URL}/admin/api/2026-10/graphql.json"
RESULT_URL = "https://storage.googleapis.com/shopify-tiers-assets/bulk/result.jsonl?sig=SECRET"
OPERATION_ID = "gid://shopify/BulkOperation/720918"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> ShopifyGraphQLClient:
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    return ShopifyGraphQLClient(BASE_URL, "shpat_token", limiter=limiter, sleep=clock.sleep)


def status_body(status: str, **fields: Any) -> dict[str, Any]:
    node = {
        "id": OPERATION_ID,
        "status": status,
        "errorCode": None,
        "objectCount": "0",
        "rootObjectCount": "0",
        "fileSize": None,
        "url": None,
        "partialDataUrl": None,
        "createdAt": "2026-11-23T08:00:00Z",
        "completedAt": None,
    }
    node.update(fields)
    return {"data": {"node": node}}


def started_body() -> dict[str, Any]:
    return {
        "data": {
            "bulkOperationRunQuery": {
                "bulkOperation": {"id": OPERATION_ID, "status": "CREATED"},
                "userErrors": [],
            }
        }
    }


def sent_bodies() -> list[dict[str, Any]]:
    return [json.loads(call.request.body) for call in responses.calls if call.request.body]


@responses.activate
def test_start_bulk_query(client: ShopifyGraphQLClient) -> None:
    responses.post(ENDPOINT, json=started_body())
    operation = start_bulk_query(client, queries.BULK_CUSTOMERS, group_objects=True)
    assert operation == BulkOperation(id=OPERATION_ID, status="CREATED")
    [body] = sent_bodies()
    assert body["query"] == queries.BULK_OPERATION_RUN_QUERY
    assert body["variables"] == {"query": queries.BULK_CUSTOMERS, "groupObjects": True}


@responses.activate
def test_start_bulk_query_user_errors(client: ShopifyGraphQLClient) -> None:
    errors = [
        {
            "field": None,
            "message": "A bulk query operation is in progress",
            "code": "OPERATION_IN_PROGRESS",
        }
    ]
    responses.post(
        ENDPOINT,
        json={"data": {"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": errors}}},
    )
    with pytest.raises(BulkOperationRejected, match="OPERATION_IN_PROGRESS") as info:
        start_bulk_query(client, queries.BULK_CUSTOMERS)
    assert info.value.user_errors == errors


@responses.activate
def test_wait_polls_with_growing_intervals(client: ShopifyGraphQLClient, clock: FakeClock) -> None:
    for status in ("CREATED", "RUNNING", "RUNNING", "RUNNING"):
        responses.post(ENDPOINT, json=status_body(status, objectCount="12"))
    responses.post(
        ENDPOINT,
        json=status_body(
            "COMPLETED",
            objectCount="12345",
            rootObjectCount="12000",
            fileSize="999",
            url=RESULT_URL,
        ),
    )
    operation = wait_for_bulk_operation(
        client,
        OPERATION_ID,
        initial_interval=1,
        multiplier=2,
        max_interval=5,
        clock=clock,
        sleep=clock.sleep,
    )
    assert operation.status == "COMPLETED"
    assert (operation.object_count, operation.root_object_count, operation.file_size) == (
        12345,
        12000,
        999,
    )
    assert operation.url == RESULT_URL
    assert clock.sleeps == [1, 2, 4, 5]
    assert "sig=SECRET" not in repr(operation)
    assert all(body["variables"] == {"id": OPERATION_ID} for body in sent_bodies())


@responses.activate
@pytest.mark.parametrize("status", ["FAILED", "CANCELED", "EXPIRED"])
def test_wait_raises_on_terminal_failure(
    client: ShopifyGraphQLClient, clock: FakeClock, status: str
) -> None:
    responses.post(
        ENDPOINT, json=status_body(status, errorCode="TIMEOUT", partialDataUrl=RESULT_URL)
    )
    with pytest.raises(BulkOperationFailed, match=status) as info:
        wait_for_bulk_operation(client, OPERATION_ID, clock=clock, sleep=clock.sleep)
    assert info.value.operation.partial_data_url == RESULT_URL
    assert "sig=SECRET" not in str(info.value)


@responses.activate
def test_wait_times_out(client: ShopifyGraphQLClient, clock: FakeClock) -> None:
    responses.post(ENDPOINT, json=status_body("RUNNING"))
    with pytest.raises(BulkOperationTimeout):
        wait_for_bulk_operation(
            client,
            OPERATION_ID,
            timeout_seconds=60,
            max_interval=10,
            clock=clock,
            sleep=clock.sleep,
        )
    assert clock.now == pytest.approx(60)


@responses.activate
def test_current_bulk_operation(client: ShopifyGraphQLClient) -> None:
    responses.post(ENDPOINT, json={"data": {"currentBulkOperation": None}})
    assert current_bulk_operation(client) is None
    body = status_body("RUNNING")["data"]["node"]
    responses.post(ENDPOINT, json={"data": {"currentBulkOperation": body}})
    operation = current_bulk_operation(client)
    assert operation is not None and operation.status == "RUNNING"


def jsonl_chunks(count: int) -> Iterator[bytes]:
    """A large JSONL body produced lazily, in chunks that split lines at odd places."""
    buffer = b""
    for index in range(count):
        line = {
            "id": f"gid://shopify/Customer/{index}",
            "email": f"c{index}@example.com",
            "note": "x" * (index % 300),
        }
        buffer += json.dumps(line).encode() + b"\n"
        if len(buffer) > 7919:
            yield buffer[:7919]
            buffer = buffer[7919:]
    yield buffer


class LazyBody(io.RawIOBase):
    """File-like body generated on demand, so the test itself never holds the whole file."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@responses.activate
def test_stream_large_jsonl_yields_every_line_without_buffering_the_file() -> None:
    count = 50_000
    body = io.BufferedReader(LazyBody(jsonl_chunks(count)))
    responses.get(RESULT_URL, body=body)
    tracemalloc.start()
    seen = 0
    try:
        for expected, record in enumerate(stream_jsonl(RESULT_URL)):
            assert record["id"] == f"gid://shopify/Customer/{expected}"
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    total_size = sum(len(chunk) for chunk in jsonl_chunks(count))
    assert total_size > 8_000_000
    assert peak < total_size / 4  # streamed, not read whole
    assert "X-Shopify-Access-Token" not in responses.calls[0].request.headers


@responses.activate
def test_stream_skips_blank_lines_and_reports_bad_ones() -> None:
    responses.get(RESULT_URL, body=b'{"id": 1}\n\n{"id": 2}\r\n')
    assert [record["id"] for record in stream_jsonl(RESULT_URL)] == [1, 2]
    responses.get(RESULT_URL, body=b'{"id": 1}\nnot json\n')
    with pytest.raises(BulkResultError, match="line 2"):
        list(stream_jsonl(RESULT_URL))


@responses.activate
@pytest.mark.parametrize("reply", [{"status": 403}, {"body": requests.ConnectionError("reset")}])
def test_stream_download_errors_hide_the_url(reply: dict[str, Any]) -> None:
    responses.get(RESULT_URL, **reply)
    with pytest.raises(BulkResultError) as info:
        list(stream_jsonl(RESULT_URL))
    assert "SECRET" not in str(info.value)


@responses.activate
def test_run_bulk_query_end_to_end(client: ShopifyGraphQLClient, clock: FakeClock) -> None:
    responses.post(ENDPOINT, json=started_body())
    responses.post(ENDPOINT, json=status_body("RUNNING"))
    responses.post(ENDPOINT, json=status_body("COMPLETED", objectCount="2", url=RESULT_URL))
    responses.get(RESULT_URL, body=b'{"id":"a"}\n{"id":"b"}\n')
    records = list(run_bulk_query(client, queries.BULK_CUSTOMERS, clock=clock, sleep=clock.sleep))
    assert records == [{"id": "a"}, {"id": "b"}]


@responses.activate
def test_run_bulk_query_with_no_objects_has_no_file(
    client: ShopifyGraphQLClient, clock: FakeClock
) -> None:
    responses.post(ENDPOINT, json=started_body())
    responses.post(ENDPOINT, json=status_body("COMPLETED", objectCount="0", url=None))
    assert (
        list(run_bulk_query(client, queries.BULK_CUSTOMERS, clock=clock, sleep=clock.sleep)) == []
    )
    assert all(call.request.method == "POST" for call in responses.calls)


def test_group_children() -> None:
    lines = [
        {"id": "gid://shopify/Customer/1"},
        {"id": "gid://shopify/Order/10", "__parentId": "gid://shopify/Customer/1"},
        {"id": "gid://shopify/Order/11", "__parentId": "gid://shopify/Customer/1"},
        {"id": "gid://shopify/Customer/2"},
        {"id": "gid://shopify/Customer/3"},
        {"id": "gid://shopify/Order/30", "__parentId": "gid://shopify/Customer/3"},
    ]
    grouped = [
        (parent["id"], [child["id"] for child in children])
        for parent, children in group_children(lines)
    ]
    assert grouped == [
        ("gid://shopify/Customer/1", ["gid://shopify/Order/10", "gid://shopify/Order/11"]),
        ("gid://shopify/Customer/2", []),
        ("gid://shopify/Customer/3", ["gid://shopify/Order/30"]),
    ]
    assert list(group_children([])) == []


def test_group_children_is_lazy() -> None:
    def lines() -> Iterator[dict[str, Any]]:
        yield {"id": "p1"}
        yield {"id": "c1", "__parentId": "p1"}
        yield {"id": "p2"}
        raise AssertionError("read past the second parent")

    first = next(group_children(lines()))
    assert first == ({"id": "p1"}, [{"id": "c1", "__parentId": "p1"}])


@pytest.mark.parametrize(
    "lines",
    [
        [{"id": "c1", "__parentId": "p1"}],
        [{"id": "p1"}, {"id": "p2"}, {"id": "c1", "__parentId": "p1"}],
    ],
)
def test_group_children_refuses_ungrouped_output(lines: list[dict[str, Any]]) -> None:
    with pytest.raises(BulkResultError, match="group_objects"):
        list(group_children(lines))
