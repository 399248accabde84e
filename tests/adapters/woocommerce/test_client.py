"""The transport: retries, error types and paging, with `responses` at the HTTP boundary."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from patronkit.adapters.woocommerce.client import (
    RetryPolicy,
    WooCommerceAuthError,
    WooCommerceClient,
    WooCommerceRequestError,
    WooCommerceUnavailable,
    retry_after_seconds,
)
from patronkit.core.storefront import StoreAccessRevoked, StoreUnavailable

SITE = "https://shop.example.com"
API = f"{SITE}/wp-json/wc/v3"
KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> WooCommerceClient:
    return WooCommerceClient(SITE, KEY, SECRET, sleep=sleeps.append, rng=random.Random(7))


@responses.activate
def test_a_get_is_authenticated_and_returns_the_response(client: WooCommerceClient) -> None:
    responses.get(f"{API}/customers/25", json={"id": 25})
    assert client.get_json("customers/25") == {"id": 25}
    request = responses.calls[0].request
    assert request.headers["Authorization"].startswith("Basic ")  # HTTPS: basic auth
    assert SECRET not in (request.url or "")


@responses.activate
def test_server_errors_are_retried_with_backoff(
    client: WooCommerceClient, sleeps: list[float]
) -> None:
    responses.get(f"{API}/orders", status=503)
    responses.get(f"{API}/orders", status=502)
    responses.get(f"{API}/orders", json=[])
    assert client.get_json("orders") == []
    assert len(responses.calls) == 3
    assert len(sleeps) == 2
    policy = RetryPolicy()
    assert 0 <= sleeps[0] <= policy.base_delay
    assert 0 <= sleeps[1] <= policy.base_delay * 2


@responses.activate
def test_retry_after_is_honoured(client: WooCommerceClient, sleeps: list[float]) -> None:
    responses.put(f"{API}/customers/25", status=429, headers={"Retry-After": "3"})
    responses.put(f"{API}/customers/25", json={"id": 25})
    client.put("customers/25", {"meta_data": []})
    assert sleeps == [3.0]


@responses.activate
def test_a_long_retry_after_gives_up_at_once(
    client: WooCommerceClient, sleeps: list[float]
) -> None:
    responses.get(f"{API}/orders", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(WooCommerceUnavailable):
        client.get("orders")
    assert (len(responses.calls), sleeps) == (1, [])


@responses.activate
def test_network_failures_are_retried_then_unavailable(
    client: WooCommerceClient, sleeps: list[float]
) -> None:
    responses.get(f"{API}/orders", body=requests.ConnectionError(f"{API}/orders?ck={KEY}"))
    with pytest.raises(WooCommerceUnavailable) as raised:
        client.get("orders")
    assert isinstance(raised.value, StoreUnavailable)
    assert len(responses.calls) == RetryPolicy().max_attempts
    assert len(sleeps) == RetryPolicy().max_attempts - 1
    assert KEY not in str(raised.value)  # the library's message holds the URL


@responses.activate
@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_access_revoked_at_once(
    client: WooCommerceClient, sleeps: list[float], status: int
) -> None:
    responses.get(
        f"{API}/customers",
        status=status,
        json={"code": "woocommerce_rest_cannot_view", "message": "Sorry, john@x.com"},
    )
    with pytest.raises(WooCommerceAuthError) as raised:
        client.get("customers")
    assert isinstance(raised.value, StoreAccessRevoked)
    assert (len(responses.calls), sleeps) == (1, [])
    assert "john@x.com" not in str(raised.value)  # messages may echo input


@responses.activate
def test_other_client_errors_carry_status_and_code(client: WooCommerceClient) -> None:
    responses.put(
        f"{API}/customers/99",
        status=400,
        json={"code": "woocommerce_rest_invalid_id", "message": "Invalid resource ID."},
    )
    with pytest.raises(WooCommerceRequestError) as raised:
        client.put("customers/99", {})
    assert (raised.value.status, raised.value.code) == (400, "woocommerce_rest_invalid_id")
    assert len(responses.calls) == 1


@responses.activate
def test_a_non_json_answer_is_unavailable(client: WooCommerceClient) -> None:
    responses.get(f"{API}/customers", body="<html>Just a moment…</html>")
    with pytest.raises(WooCommerceUnavailable):
        client.get_json("customers")


@responses.activate
def test_pages_follow_total_pages(client: WooCommerceClient) -> None:
    for page in (1, 2, 3):
        responses.get(
            f"{API}/customers",
            json=[{"id": page * 10 + i} for i in range(2)],
            headers={"X-WP-Total": "6", "X-WP-TotalPages": "3"},
            match=[responses.matchers.query_param_matcher({"per_page": "2", "page": str(page)})],
        )
    pages = list(client.pages("customers", {"per_page": "2"}))
    assert [[item["id"] for item in page] for page in pages] == [[10, 11], [20, 21], [30, 31]]


@responses.activate
def test_pages_are_read_lazily(client: WooCommerceClient) -> None:
    responses.get(f"{API}/orders", json=[{"id": 1}], headers={"X-WP-TotalPages": "50"})
    pages = client.pages("orders", {"per_page": "1"})
    next(pages)
    assert len(responses.calls) == 1  # streamed: never the whole store in memory


@responses.activate
def test_an_empty_page_or_a_short_page_without_the_header_ends_the_scan(
    client: WooCommerceClient,
) -> None:
    responses.get(f"{API}/orders", json=[], headers={"X-WP-TotalPages": "9"})
    assert list(client.pages("orders", {"per_page": "100"})) == []
    responses.reset()
    responses.get(f"{API}/orders", json=[{"id": 1}])  # a proxy dropped the header
    assert len(list(client.pages("orders", {"per_page": "100"}))) == 1


def test_retry_after_forms() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = retry_after_seconds(later)
    assert seconds is not None and 25 <= seconds <= 31
