import json
import logging
import random
import threading
from typing import Any

import pytest
import requests
import responses

from patronkit.adapters.shopify.graphql_client import (
    DEFAULT_API_VERSION,
    DEFAULT_QUERY_COST,
    SAFETY_MARGIN_POINTS,
    CostLimiter,
    LimiterRegistry,
    QueryCost,
    RetryPolicy,
    ShopifyAuthError,
    ShopifyGraphQLClient,
    ShopifyGraphQLError,
    ShopifyRequestError,
    ShopifyUnavailable,
    ThrottleStatus,
    operation_name,
)

BASE_URL = "http://127.0.0.1:8765"
ENDPOINT = f"{BASE_URL}/admin/api/{DEFAULT_API_VERSION}/graphql.json"
TOKEN = "shpat_secret_token_value"
QUERY = "query PatronkitTest($after: String) { shop { name } }"


class FakeClock:
    """Monotonic fake time; `sleep` advances it and records the delay."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class CeilingRandom(random.Random):
    """Jitter at its upper bound, so the backoff ceiling is observable."""

    def uniform(self, a: float, b: float) -> float:
        return b


class FakeBucket:
    """Shopify's leaky bucket on the fake clock: refuses a query when fewer points than its
    requested cost are available, then charges the actual cost."""

    def __init__(
        self,
        clock: FakeClock,
        maximum: float = 1000,
        rate: float = 50,
        requested: int = 100,
        actual: int = 80,
    ) -> None:
        self.clock = clock
        self.maximum = maximum
        self.rate = rate
        self.available = maximum
        self.as_of = clock()
        self.requested = requested
        self.actual = actual
        self.throttled = 0
        self.served = 0
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        with self._lock:
            now = self.clock()
            self.available = min(self.maximum, self.available + self.rate * (now - self.as_of))
            self.as_of = now
            if self.available < self.requested:
                self.throttled += 1
                body: dict[str, Any] = {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": self._cost(actual=None)},
                }
            else:
                self.available -= self.actual
                self.served += 1
                body = {
                    "data": {"shop": {"name": "Demo"}},
                    "extensions": {"cost": self._cost(self.actual)},
                }
            return 200, {}, json.dumps(body)

    def _cost(self, actual: int | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": self.requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": self.available,
                "restoreRate": self.rate,
            },
        }


def cost_extension(
    requested: int = 10, available: float = 990, maximum: float = 1000, rate: float = 50
) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(
    clock: FakeClock, limiter: CostLimiter | None = None, **kwargs: Any
) -> ShopifyGraphQLClient:
    return ShopifyGraphQLClient(
        BASE_URL,
        TOKEN,
        limiter=limiter or CostLimiter(clock=clock, sleep=clock.sleep),
        sleep=clock.sleep,
        rng=kwargs.pop("rng", CeilingRandom()),
        **kwargs,
    )


@responses.activate
def test_request_shape(clock: FakeClock) -> None:
    responses.post(
        ENDPOINT, json={"data": {"shop": {"name": "Demo"}}, "extensions": cost_extension()}
    )
    result = make_client(clock).execute(QUERY, {"after": None})
    assert result.data == {"shop": {"name": "Demo"}}
    assert result.cost == QueryCost(10, 10, ThrottleStatus(1000, 990, 50))
    request = responses.calls[0].request
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body or b"") == {"query": QUERY, "variables": {"after": None}}
    assert request.req_kwargs["timeout"] == (5.0, 30.0)  # type: ignore[attr-defined]


def test_endpoint_for_real_shop_and_version() -> None:
    client = ShopifyGraphQLClient("https://demo.myshopify.com/", "t", api_version="2026-07")
    assert client.endpoint == "https://demo.myshopify.com/admin/api/2026-07/graphql.json"
    assert "'t'" not in repr(client) and "***" in repr(client)


@responses.activate
def test_steady_state_is_never_throttled_and_not_over_paced(clock: FakeClock) -> None:
    bucket = FakeBucket(clock, maximum=1000, rate=50, requested=100, actual=80)
    responses.add_callback(responses.POST, ENDPOINT, callback=bucket)
    client = make_client(clock)
    start = clock()
    for _ in range(200):
        client.execute(QUERY)
    assert bucket.throttled == 0
    assert bucket.served == 200
    # 200 queries * 80 points, minus the 1000 initially in the bucket (less the 100 the last
    # query needs on hand), refilled at 50/s: ~302 s. Pacing must be just enough.
    elapsed = clock() - start
    ideal = (200 * 80 - (1000 - 100)) / 50
    assert ideal - 2 <= elapsed <= ideal + 5


@responses.activate
def test_bigger_bucket_read_at_run_time(clock: FakeClock) -> None:
    bucket = FakeBucket(clock, maximum=2000, rate=100, requested=100, actual=100)
    responses.add_callback(responses.POST, ENDPOINT, callback=bucket)
    client = make_client(clock)
    for _ in range(60):
        client.execute(QUERY)
    assert bucket.throttled == 0
    # (6000 - 1900) / 100 = 41 s; with the initial 1000/50 assumption it would be ~2x slower.
    assert clock() - 1000.0 <= 45


@responses.activate
def test_two_clients_of_one_shop_share_the_bucket(clock: FakeClock) -> None:
    bucket = FakeBucket(clock, maximum=1000, rate=50, requested=200, actual=200)
    responses.add_callback(responses.POST, ENDPOINT, callback=bucket)
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    first, second = make_client(clock, limiter), make_client(clock, limiter)
    for _ in range(30):
        first.execute(QUERY)
        second.execute(QUERY)
    assert bucket.throttled == 0


@responses.activate
def test_threads_sharing_a_limiter_stay_within_the_bucket(clock: FakeClock) -> None:
    bucket = FakeBucket(clock, maximum=1000, rate=50, requested=100, actual=100)
    responses.add_callback(responses.POST, ENDPOINT, callback=bucket)
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    errors: list[BaseException] = []

    def work() -> None:
        client = make_client(clock, limiter)
        try:
            for _ in range(20):
                client.execute(QUERY, expected_cost=100)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert bucket.served == 80
    assert bucket.throttled == 0
    assert limiter.in_flight == 0


def test_learns_requested_cost(clock: FakeClock) -> None:
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    assert limiter.expected_cost(QUERY) == DEFAULT_QUERY_COST
    assert limiter.expected_cost(QUERY, hint=12) == 12
    reservation = limiter.acquire(QUERY)
    assert reservation.cost == DEFAULT_QUERY_COST
    limiter.settle(reservation, QueryCost(requested=37, actual=30, throttle=None))
    assert limiter.expected_cost(QUERY) == 37
    assert limiter.expected_cost(QUERY, hint=12) == 37  # learned beats the caller's guess
    assert limiter.expected_cost("query Other { shop { id } }") == DEFAULT_QUERY_COST


def test_waits_exactly_for_the_missing_points(clock: FakeClock) -> None:
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    first = limiter.acquire(QUERY)
    limiter.settle(first, QueryCost(110, 100, ThrottleStatus(1000, 10, 50)))
    limiter.acquire(QUERY)
    assert clock.sleeps == [pytest.approx((110 + SAFETY_MARGIN_POINTS - 10) / 50)]


def test_queued_reservations_wait_in_turn(clock: FakeClock) -> None:
    sleeps: list[float] = []
    limiter = CostLimiter(clock=clock, sleep=sleeps.append, maximum_available=100, restore_rate=10)
    for _ in range(3):
        limiter.acquire(QUERY, hint=100)  # the clock does not move: all three queue up
    assert sleeps == [pytest.approx(10), pytest.approx(20)]
    assert limiter.in_flight == 3


def test_stale_report_does_not_override_newer_one(clock: FakeClock) -> None:
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    older, newer = limiter.acquire(QUERY, hint=10), limiter.acquire(QUERY, hint=10)
    limiter.settle(newer, QueryCost(10, 10, ThrottleStatus(1000, 100, 50)))
    limiter.settle(older, QueryCost(10, 10, ThrottleStatus(1000, 900, 50)))
    # the older request was still unanswered when the newer report came: counted (safe side)
    assert limiter.estimate().currently_available == 90


def test_hold_blocks_acquire(clock: FakeClock) -> None:
    limiter = CostLimiter(clock=clock, sleep=clock.sleep)
    limiter.hold(4.5)
    limiter.acquire(QUERY, hint=1)
    assert clock.sleeps == [4.5]


def test_a_hold_that_comes_while_waiting_is_waited_out_too(clock: FakeClock) -> None:
    held_meanwhile: list[bool] = []

    def sleep(seconds: float) -> None:
        if not held_meanwhile:  # another request hears a Retry-After while this one sleeps
            held_meanwhile.append(True)
            limiter.hold(6.0)
        clock.sleep(seconds)

    limiter = CostLimiter(clock=clock, sleep=sleep)
    limiter.hold(2.0)
    limiter.acquire(QUERY, hint=1)
    assert clock.sleeps == [2.0, 4.0]  # woke at the old time, then waited for the new hold


@responses.activate
def test_throttled_is_retried_after_the_bucket_refills(clock: FakeClock) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost_extension(requested=300, available=100, rate=100),
    }
    responses.post(ENDPOINT, json=throttled)
    responses.post(
        ENDPOINT, json={"data": {"shop": {}}, "extensions": cost_extension(requested=300)}
    )
    result = make_client(clock).execute(QUERY)
    assert result.data == {"shop": {}}
    assert len(responses.calls) == 2
    # backoff (ceiling 0.5 s) then the pacing wait covers what is still missing of 300 points
    assert clock.sleeps[0] == 0.5
    assert sum(clock.sleeps) == pytest.approx((300 + SAFETY_MARGIN_POINTS - 100) / 100)


@responses.activate
def test_429_honours_retry_after(clock: FakeClock) -> None:
    responses.post(ENDPOINT, status=429, headers={"Retry-After": "7"})
    responses.post(ENDPOINT, json={"data": {"ok": True}})
    result = make_client(clock).execute(QUERY)
    assert result.data == {"ok": True}
    assert clock.sleeps == [7.0]


@responses.activate
def test_503_retry_after_is_honoured_and_capped(clock: FakeClock) -> None:
    responses.post(ENDPOINT, status=503, headers={"Retry-After": "100000"})
    responses.post(ENDPOINT, json={"data": {"ok": True}})
    make_client(clock).execute(QUERY)
    assert clock.sleeps == [300.0]


@responses.activate
def test_transient_failures_retry_with_exponential_full_jitter(clock: FakeClock) -> None:
    responses.post(ENDPOINT, status=503)
    responses.post(ENDPOINT, body=requests.ConnectionError("reset"))
    responses.post(ENDPOINT, body=requests.Timeout("slow"))
    responses.post(ENDPOINT, body="<html>not json</html>", status=200)
    responses.post(ENDPOINT, json={"data": {"ok": True}})
    client = make_client(clock, retry=RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=3))
    assert client.execute(QUERY).data == {"ok": True}
    assert clock.sleeps == [0.5, 1.0, 2.0, 3.0]  # ceilings, capped at max_delay


def test_full_jitter_stays_within_ceiling() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=10)
    rng = random.Random(7)
    for retry in range(8):
        delay = policy.backoff(retry, rng)
        assert 0 <= delay <= min(10, 2**retry)


@responses.activate
def test_gives_up_after_max_attempts(clock: FakeClock) -> None:
    responses.post(ENDPOINT, status=502)
    with pytest.raises(ShopifyUnavailable, match="PatronkitTest"):
        make_client(clock, retry=RetryPolicy(max_attempts=3)).execute(QUERY)
    assert len(responses.calls) == 3
    assert len(clock.sleeps) == 2


@responses.activate
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, ShopifyAuthError),
        (403, ShopifyAuthError),
        (400, ShopifyRequestError),
        (404, ShopifyRequestError),
        (402, ShopifyRequestError),
    ],
)
def test_client_errors_are_not_retried(
    clock: FakeClock, status: int, error: type[Exception]
) -> None:
    responses.post(
        ENDPOINT, status=status, json={"errors": "[API] Invalid API key or access token"}
    )
    with pytest.raises(error) as info:
        make_client(clock).execute(QUERY)
    assert info.value.status == status  # type: ignore[attr-defined]
    assert len(responses.calls) == 1


@responses.activate
def test_graphql_errors_are_raised_not_retried_and_kept_out_of_the_message(
    clock: FakeClock,
) -> None:
    pii_message = "Variable $email of type String! was provided invalid value jane@example.com"
    responses.post(
        ENDPOINT,
        json={
            "errors": [
                {"message": pii_message, "extensions": {"code": "argumentLiteralsIncompatible"}}
            ]
        },
    )
    with pytest.raises(ShopifyGraphQLError) as info:
        make_client(clock).execute(QUERY)
    assert "jane@example.com" not in str(info.value)
    assert "argumentLiteralsIncompatible" in str(info.value)
    assert info.value.errors[0]["message"] == pii_message
    assert len(responses.calls) == 1


@responses.activate
def test_user_errors_are_returned(clock: FakeClock) -> None:
    payload = {
        "customerEmailMarketingConsentUpdate": {
            "customer": None,
            "userErrors": [
                {
                    "field": ["input", "customerId"],
                    "message": "Customer not found",
                    "code": "INVALID",
                }
            ],
        }
    }
    responses.post(ENDPOINT, json={"data": payload})
    result = make_client(clock).execute("mutation PatronkitX { x }")
    assert result.user_errors("customerEmailMarketingConsentUpdate")[0]["code"] == "INVALID"
    assert result.user_errors("missing") == []
    assert len(responses.calls) == 1


def page(ids: list[int], has_next: bool, cursor: str | None, edges: bool = False) -> dict[str, Any]:
    nodes = [{"id": f"gid://shopify/Customer/{i}"} for i in ids]
    connection: dict[str, Any] = {"pageInfo": {"hasNextPage": has_next, "endCursor": cursor}}
    if edges:
        connection["edges"] = [{"node": node} for node in nodes]
    else:
        connection["nodes"] = nodes
    return {"data": {"customers": connection}}


@responses.activate
def test_paginate_follows_cursors(clock: FakeClock) -> None:
    responses.post(ENDPOINT, json=page([1, 2], True, "c1"))
    responses.post(ENDPOINT, json=page([3, 4], True, "c2", edges=True))
    responses.post(ENDPOINT, json=page([5], False, None))
    client = make_client(clock)
    nodes = list(client.paginate(QUERY, {"first": 2, "query": "updated_at:>'x'"}, "customers"))
    assert [node["id"].rsplit("/", 1)[1] for node in nodes] == ["1", "2", "3", "4", "5"]
    sent = [json.loads(call.request.body or b"")["variables"] for call in responses.calls]
    assert [v.get("after") for v in sent] == [None, "c1", "c2"]
    assert all(v["first"] == 2 and v["query"] == "updated_at:>'x'" for v in sent)


@responses.activate
def test_paginate_nested_path_and_missing_parent(clock: FakeClock) -> None:
    responses.post(ENDPOINT, json={"data": {"customer": None}})
    assert list(make_client(clock).paginate(QUERY, {}, "customer.orders")) == []


@responses.activate
def test_paginate_stops_on_a_stuck_cursor(clock: FakeClock) -> None:
    responses.post(ENDPOINT, json=page([1], True, "same"))
    with pytest.raises(Exception, match="did not advance"):
        list(make_client(clock).paginate(QUERY, {}, ["customers"]))


@responses.activate
def test_nothing_sensitive_is_logged(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"data": {"customer": {"email": "jane@example.com"}}, "extensions": cost_extension()}
    responses.post(ENDPOINT, status=500, body="jane@example.com internal")
    responses.post(ENDPOINT, json=body)
    make_client(clock).execute(QUERY, {"email": "jane@example.com"})
    assert caplog.records, "expected retry/cost log lines"
    assert TOKEN not in caplog.text
    assert "jane@example.com" not in caplog.text
    assert "PatronkitTest" in caplog.text


def test_limiter_registry_shares_per_shop() -> None:
    registry = LimiterRegistry()
    assert registry.get("https://Demo.myshopify.com/") is registry.get("https://demo.myshopify.com")
    assert registry.get("https://a.myshopify.com") is not registry.get("https://b.myshopify.com")


def test_operation_name() -> None:
    assert operation_name("\n  query PatronkitX($a: Int) { x }") == "PatronkitX"
    assert operation_name("mutation Y { y }") == "Y"
    assert operation_name("{ shop { id } }") == "anonymous"


def test_a_sleeper_plans_again_when_a_report_shows_a_slower_bucket(clock: FakeClock) -> None:
    """A wait planned on the old restore rate would end too early once Shopify reports a
    slower one (a plan change): the request would then arrive at an empty bucket."""
    reported: list[bool] = []

    def sleep(seconds: float) -> None:
        if not reported:
            reported.append(True)
            # The second request's answer arrives while the third waits: 10 points/s now.
            limiter.settle(second, QueryCost(10, 10, ThrottleStatus(1000, 0, 10)))
        clock.sleep(seconds)

    limiter = CostLimiter(clock=clock, sleep=sleep)
    first, second = limiter.acquire(QUERY, hint=10), limiter.acquire(QUERY, hint=10)
    limiter.settle(first, QueryCost(10, 10, ThrottleStatus(1000, 0, 50)))
    limiter.acquire("query Big { shop { id } }", hint=100)
    # Enough time for 100 points (and the margin) at the rate Shopify reported last.
    assert sum(clock.sleeps) >= (100 + SAFETY_MARGIN_POINTS) / 10 - 1e-6
    assert len(clock.sleeps) == 2  # the planned wait, then the rest at the new rate
    assert limiter.in_flight == 1
