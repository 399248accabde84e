"""GraphQL Admin API client: cost-aware pacing, bounded retries, cursor pagination.

Why not ``shopify.GraphQL`` from ShopifyAPI: it sends through ``urllib`` with no timeout,
prints error bodies to stdout (customer data in our logs) and takes the shop and token from
thread-global session state. This client sends through a ``requests.Session`` (timeouts,
connection reuse), carries its own base URL and token, and logs only operation names,
status codes and query costs — never tokens, variables or response bodies.

Pacing follows Shopify's leaky bucket: every response reports
``extensions.cost.throttleStatus`` (maximumAvailable, currentlyAvailable, restoreRate) and
the query's ``requestedQueryCost``. A `CostLimiter`, shared by every client of one shop in
this process, models the bucket from those numbers and, before each request, waits just long
enough for the query's expected cost to fit, so a well-behaved process is not throttled in
steady state. Other processes draining the same bucket show up in the next reported
``currentlyAvailable``; a THROTTLED answer is retried with backoff.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-10"
DEFAULT_QUERY_COST = 50  # assumed for a query we have not seen yet
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
# Until the first response reports the shop's real bucket, assume the smallest one.
INITIAL_MAXIMUM_AVAILABLE = 1000.0
INITIAL_RESTORE_RATE = 50.0
MAX_RETRY_AFTER_SECONDS = 300.0
_MIN_RESTORE_RATE = 1.0  # guards against a bogus 0 turning into an endless wait
# Extra points to wait for, so rounding on either side never leaves us a hair short.
SAFETY_MARGIN_POINTS = 1.0
_LEARNED_COSTS_LIMIT = 256
_RETRYABLE_GRAPHQL_CODES = frozenset({"THROTTLED", "INTERNAL_SERVER_ERROR"})
_OPERATION_NAME = re.compile(r"^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class ShopifyError(Exception):
    """Base class for errors talking to a Shopify shop."""


class ShopifyAuthError(ShopifyError):
    """401/403: the token is invalid or revoked (app uninstalled) or lacks a scope."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ShopifyRequestError(ShopifyError):
    """Another 4xx (400, 402 frozen shop, 404 unknown shop, 423 locked shop, ...)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ShopifyGraphQLError(ShopifyError):
    """Top-level GraphQL ``errors`` (bad query, access denied, ...), not retried.

    ``str()`` carries only the error codes; ``errors`` and ``data`` hold the full answer,
    whose messages can echo customer data from the variables: don't log them.
    """

    def __init__(self, message: str, errors: Sequence[Any], data: Mapping[str, Any] | None) -> None:
        super().__init__(message)
        self.errors = tuple(errors)
        self.data = data


class ShopifyUnavailable(ShopifyError):
    """Throttling, 429, 5xx or network failures persisted through every retry."""


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    requested: int | None
    actual: int | None
    throttle: ThrottleStatus | None


@dataclass(frozen=True)
class GraphQLResult:
    data: Mapping[str, Any]
    cost: QueryCost | None

    def user_errors(self, mutation_field: str) -> list[dict[str, Any]]:
        """``data[mutation_field].userErrors`` (empty list when absent)."""
        payload = self.data.get(mutation_field)
        errors = payload.get("userErrors") if isinstance(payload, Mapping) else None
        return list(errors) if isinstance(errors, list) else []


@dataclass(frozen=True)
class Page:
    nodes: tuple[dict[str, Any], ...]
    has_next_page: bool
    end_cursor: str | None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**retry_number)]."""
        ceiling = min(self.max_delay, self.base_delay * (2**retry_number))
        return rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class Reservation:
    """Points set aside by `CostLimiter.acquire`, released by `CostLimiter.settle`."""

    query_key: str = field(repr=False)
    cost: float
    sequence: int


class CostLimiter:
    """Thread-safe model of one shop's GraphQL cost bucket.

    ``acquire`` reserves the query's expected cost (the bucket may go negative, which makes
    later callers queue behind it) and sleeps until the modelled bucket covers it;
    ``settle`` replaces the model with what Shopify reported, minus the costs still reserved
    by other unanswered requests. A report older than one already applied (answers can
    arrive out of order across threads) only teaches the query cost. Every approximation
    errs towards waiting a little longer.
    """

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        default_cost: float = DEFAULT_QUERY_COST,
        maximum_available: float = INITIAL_MAXIMUM_AVAILABLE,
        restore_rate: float = INITIAL_RESTORE_RATE,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._default_cost = default_cost
        self._lock = threading.Lock()
        self._maximum = maximum_available
        self._rate = max(restore_rate, _MIN_RESTORE_RATE)
        self._available = maximum_available
        self._as_of = clock()
        self._in_flight: dict[int, float] = {}
        self._next_sequence = 0
        self._applied_sequence = -1
        self._blocked_until = float("-inf")
        self._holds = 0  # how many holds so far: a sleeper can tell whether one came meanwhile
        self._corrections = 0  # how many reports showed fewer points than modelled
        self._learned: OrderedDict[str, int] = OrderedDict()

    def expected_cost(self, query_key: str, hint: float | None = None) -> float:
        """Last requestedQueryCost seen for this query, else ``hint``, else the default."""
        with self._lock:
            return self._expected_cost_locked(query_key, hint)

    def acquire(self, query_key: str, hint: float | None = None) -> Reservation:
        while True:
            with self._lock:
                now = self._clock()
                cost = min(self._expected_cost_locked(query_key, hint), self._maximum)
                available = self._estimate_locked(now)
                shortfall = min(cost + SAFETY_MARGIN_POINTS, self._maximum) - available
                wait = max(shortfall / self._rate, self._blocked_until - now, 0.0)
                holds, corrections = self._holds, self._corrections
                self._available = available - cost
                self._as_of = now
                reservation = Reservation(query_key, cost, self._next_sequence)
                self._in_flight[reservation.sequence] = cost
                self._next_sequence += 1
            if wait <= 0:
                return reservation
            logger.debug("shopify graphql: pacing %.2fs for %.0f points", wait, cost)
            self._sleep(wait)
            self._wait_out_holds_since(holds)
            with self._lock:
                if self._corrections == corrections:
                    return reservation
                # While we slept Shopify reported a smaller or slower bucket than the one this
                # wait was planned on (a plan change, or our first report): plan again.
                self._in_flight.pop(reservation.sequence, None)
                self._available += reservation.cost

    def _wait_out_holds_since(self, seen: int) -> None:
        """A Retry-After that another request heard while this one slept holds this one too:
        without looking again, it would wake at the old time and call inside the new pause."""
        while True:
            with self._lock:
                if self._holds == seen:
                    return
                seen = self._holds
                wait = self._blocked_until - self._clock()
            if wait > 0:
                self._sleep(wait)

    def settle(self, reservation: Reservation, cost: QueryCost | None) -> None:
        with self._lock:
            self._in_flight.pop(reservation.sequence, None)
            if cost is None:
                return  # unknown outcome: keep the reservation deducted (conservative)
            if cost.requested is not None:
                self._learned[reservation.query_key] = cost.requested
                self._learned.move_to_end(reservation.query_key)
                while len(self._learned) > _LEARNED_COSTS_LIMIT:
                    self._learned.popitem(last=False)
            if cost.throttle is not None and reservation.sequence > self._applied_sequence:
                now = self._clock()
                modelled, rate = self._estimate_locked(now), self._rate
                self._applied_sequence = reservation.sequence
                self._maximum = cost.throttle.maximum_available
                self._rate = max(cost.throttle.restore_rate, _MIN_RESTORE_RATE)
                unanswered = sum(self._in_flight.values())
                self._available = cost.throttle.currently_available - unanswered
                # Stamped now, not when Shopify measured it: under-counts refill (safe side).
                self._as_of = now
                if self._available < modelled - SAFETY_MARGIN_POINTS or self._rate < rate:
                    self._corrections += 1

    def hold(self, seconds: float) -> None:
        """Make every ``acquire`` wait until ``seconds`` from now (Retry-After)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
            self._holds += 1

    @property
    def in_flight(self) -> int:
        """Requests acquired and not yet settled."""
        with self._lock:
            return len(self._in_flight)

    def estimate(self) -> ThrottleStatus:
        """The modelled bucket right now (for metrics and tests)."""
        with self._lock:
            return ThrottleStatus(self._maximum, self._estimate_locked(self._clock()), self._rate)

    def _estimate_locked(self, now: float) -> float:
        elapsed = max(now - self._as_of, 0.0)
        return min(self._maximum, self._available + self._rate * elapsed)

    def _expected_cost_locked(self, query_key: str, hint: float | None) -> float:
        learned = self._learned.get(query_key)
        if learned is not None:
            return float(learned)
        return float(hint) if hint is not None else self._default_cost


class LimiterRegistry:
    """One `CostLimiter` per shop, so every client of that shop shares its bucket."""

    def __init__(self, factory: Callable[[], CostLimiter] = CostLimiter) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._limiters: dict[str, CostLimiter] = {}

    def get(self, shop_key: str) -> CostLimiter:
        key = shop_key.strip().lower().rstrip("/")
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = self._factory()
            return limiter


DEFAULT_LIMITERS = LimiterRegistry()


@dataclass(frozen=True)
class _Outcome:
    result: GraphQLResult | None = None
    error: ShopifyError | None = None
    retry_reason: str | None = None
    retry_after: float | None = None
    cost: QueryCost | None = None


class ShopifyGraphQLClient:
    """Client for one shop's GraphQL Admin API.

    ``base_url`` is ``https://{shop}`` for a real shop or the simulator's
    ``http://127.0.0.1:PORT``. Without an explicit ``limiter`` the client uses the shared
    per-shop limiter for ``base_url`` from `DEFAULT_LIMITERS`.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        limiter: CostLimiter | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.endpoint = f"{self.base_url}/admin/api/{api_version}/graphql.json"
        self._token = access_token
        self._limiter = limiter or DEFAULT_LIMITERS.get(self.base_url)
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._retry = retry or RetryPolicy()
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def __repr__(self) -> str:
        return f"ShopifyGraphQLClient({self.endpoint!r}, access_token='***')"

    def __enter__(self) -> ShopifyGraphQLClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        expected_cost: float | None = None,
    ) -> GraphQLResult:
        """Run one query or mutation, paced and retried.

        Mutation ``userErrors`` are part of the returned data (see `GraphQLResult.user_errors`);
        only transport failures, throttling and top-level GraphQL errors raise.
        """
        name = operation_name(query)
        reason = "no attempt"
        for attempt in range(self._retry.max_attempts):
            reservation = self._limiter.acquire(query, expected_cost)
            outcome = _Outcome(error=ShopifyError("request did not complete"))
            try:
                outcome = self._attempt(query, variables)
            finally:
                self._limiter.settle(reservation, outcome.cost)
            if outcome.result is not None:
                _log_cost(name, outcome.result.cost)
                return outcome.result
            if outcome.error is not None:
                raise outcome.error
            reason = outcome.retry_reason or "unknown"
            if attempt + 1 >= self._retry.max_attempts:
                break
            if outcome.retry_after is not None:
                delay = outcome.retry_after
                self._limiter.hold(delay)  # every client of this shop waits it out
            else:
                delay = self._retry.backoff(attempt, self._rng)
                self._sleep(delay)
            logger.warning(
                "shopify graphql %s: %s, retry %d/%d in %.2fs",
                name,
                reason,
                attempt + 1,
                self._retry.max_attempts - 1,
                delay,
            )
        raise ShopifyUnavailable(
            f"{name}: gave up after {self._retry.max_attempts} attempts ({reason})"
        )

    def iter_pages(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        connection_path: str | Sequence[str],
        *,
        expected_cost: float | None = None,
    ) -> Iterator[Page]:
        """Follow ``pageInfo { hasNextPage endCursor }`` through the query's ``$after``.

        ``connection_path`` locates the connection in ``data``: ``"customers"`` or
        ``"customer.orders"``. The connection may select ``nodes`` or ``edges { node }``.
        """
        path = connection_path.split(".") if isinstance(connection_path, str) else connection_path
        page_variables = dict(variables or {})
        previous_cursor: str | None = None
        while True:
            result = self.execute(query, page_variables, expected_cost=expected_cost)
            connection = _dig(result.data, path)
            if connection is None:
                return  # the parent object does not exist
            page = _page(connection)
            yield page
            if not page.has_next_page or page.end_cursor is None:
                return
            if page.end_cursor == previous_cursor:
                raise ShopifyError(f"{operation_name(query)}: pagination cursor did not advance")
            previous_cursor = page_variables["after"] = page.end_cursor

    def paginate(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        connection_path: str | Sequence[str],
        *,
        expected_cost: float | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every node of the connection, page after page."""
        for page in self.iter_pages(query, variables, connection_path, expected_cost=expected_cost):
            yield from page.nodes

    def _attempt(self, query: str, variables: Mapping[str, Any] | None) -> _Outcome:
        try:
            response = self._session.post(
                self.endpoint,
                json={"query": query, "variables": dict(variables or {})},
                # Per request, not on the session: a shared session may also fetch
                # third-party URLs (bulk results), which must never see the token.
                headers={"X-Shopify-Access-Token": self._token, "Accept": "application/json"},
                timeout=self._timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            return _Outcome(retry_reason=type(exc).__name__)
        except requests.RequestException as exc:
            return _Outcome(error=ShopifyError(f"request failed: {type(exc).__name__}"))

        status = response.status_code
        if status == 429 or status >= 500:
            return _Outcome(
                retry_reason=f"HTTP {status}",
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            return _Outcome(error=ShopifyAuthError(f"HTTP {status} from Shopify", status))
        if status >= 400:
            return _Outcome(error=ShopifyRequestError(f"HTTP {status} from Shopify", status))

        try:
            payload = response.json()
        except ValueError:
            return _Outcome(retry_reason="response is not JSON")
        if not isinstance(payload, dict):
            return _Outcome(retry_reason="response is not a JSON object")
        cost = _parse_cost(payload.get("extensions"))
        errors = payload.get("errors")
        data = payload.get("data")
        if errors:
            error_list = errors if isinstance(errors, list) else [errors]
            codes = _error_codes(error_list)
            if codes & _RETRYABLE_GRAPHQL_CODES:
                return _Outcome(retry_reason=",".join(sorted(codes)), cost=cost)
            return _Outcome(
                error=ShopifyGraphQLError(
                    f"GraphQL errors ({', '.join(sorted(codes)) or 'no code'})",
                    error_list,
                    data if isinstance(data, dict) else None,
                ),
                cost=cost,
            )
        if not isinstance(data, dict):
            return _Outcome(error=ShopifyGraphQLError("response has no data", [], None), cost=cost)
        return _Outcome(result=GraphQLResult(data=data, cost=cost), cost=cost)


def operation_name(query: str) -> str:
    """The operation's name, for logs (queries are never logged)."""
    match = _OPERATION_NAME.match(query)
    return match.group(1) if match else "anonymous"


def _error_codes(errors: Sequence[Any]) -> set[str]:
    codes: set[str] = set()
    for error in errors:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if isinstance(code, str):
            codes.add(code)
        elif error.get("message") == "Throttled":  # older responses carry no code
            codes.add("THROTTLED")
    return codes


def _parse_cost(extensions: object) -> QueryCost | None:
    if not isinstance(extensions, dict) or not isinstance(extensions.get("cost"), dict):
        return None
    cost = extensions["cost"]
    throttle = None
    status = cost.get("throttleStatus")
    if isinstance(status, dict):
        try:
            throttle = ThrottleStatus(
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            throttle = None
    return QueryCost(
        requested=_int_or_none(cost.get("requestedQueryCost")),
        actual=_int_or_none(cost.get("actualQueryCost")),
        throttle=throttle,
    )


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date, clamped to a sane range."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> Mapping[str, Any] | None:
    current: Any = data
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current if isinstance(current, Mapping) else None


def _page(connection: Mapping[str, Any]) -> Page:
    page_info = connection.get("pageInfo")
    if not isinstance(page_info, Mapping):
        raise ShopifyError("connection has no pageInfo { hasNextPage endCursor } selected")
    if isinstance(connection.get("nodes"), list):
        nodes = tuple(connection["nodes"])
    else:
        nodes = tuple(edge["node"] for edge in connection.get("edges") or [])
    cursor = page_info.get("endCursor")
    return Page(
        nodes=nodes,
        has_next_page=bool(page_info.get("hasNextPage")),
        end_cursor=cursor if isinstance(cursor, str) else None,
    )


def _log_cost(name: str, cost: QueryCost | None) -> None:
    if cost is not None and cost.throttle is not None:
        logger.debug(
            "shopify graphql %s: requested %s actual %s, %.0f/%.0f available",
            name,
            cost.requested,
            cost.actual,
            cost.throttle.currently_available,
            cost.throttle.maximum_available,
        )
