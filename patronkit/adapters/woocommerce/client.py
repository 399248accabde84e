"""One store's WooCommerce REST API (wc/v3), through the ``woocommerce`` client library.

The library signs requests (HTTP Basic over HTTPS, OAuth 1.0a over plain HTTP) and returns
``requests`` responses; this module adds what a sync engine needs on top:

* retries with full-jitter exponential backoff for throttling (429), server errors (5xx) and
  network failures, honouring ``Retry-After``; then `WooCommerceUnavailable`. A Retry-After
  holds every request to the store in this process, not only the one that heard it (a
  `StorePause` shared by the clients of one store);
* the port's error types directly (401/403 → `StoreAccessRevoked`, so a stream that fails
  half way raises what sync already handles);
* page streaming that follows ``X-WP-TotalPages``.

Error messages name the method, the endpoint path and WooCommerce's error code, never a URL
(over plain HTTP it carries the OAuth signature and consumer key), a response message (it may
echo input) or a body.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from woocommerce import API

from patronkit.adapters.woocommerce.pause import StorePause
from patronkit.core.storefront import StoreAccessRevoked, StoreUnavailable

logger = logging.getLogger(__name__)

API_VERSION = "wc/v3"
MAX_PAGE_SIZE = 100  # WooCommerce's per_page maximum
MAX_RETRY_AFTER_SECONDS = 60.0  # a longer wait is better left to the caller's own retry
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_PAGES = 1_000_000  # a guard against a store that reports pages forever

Sleep = Callable[[float], None]


class WooCommerceAuthError(StoreAccessRevoked):
    """The store refused our keys (401) or their permissions (403)."""


class WooCommerceUnavailable(StoreUnavailable):
    """No useful answer after the retries (network, 5xx, 429), or an unreadable one."""


class WooCommerceRequestError(StoreUnavailable):
    """The store refused the request itself (a 4xx other than 401/403/429).

    A `StoreUnavailable` so callers that do not expect it retry later and eventually give up
    with the code on record. ``status`` and ``code`` (WooCommerce's error code, e.g.
    ``woocommerce_rest_invalid_id``) let callers that do expect it decide."""

    def __init__(self, message: str, status: int, code: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**retry_number)]."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * (2**retry_number)))


class WooCommerceClient:
    """Calls one store. Cheap to build: the library opens no connection until a call."""

    def __init__(
        self,
        site_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 20.0,
        verify_ssl: bool = True,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
        pause: StorePause | None = None,
    ) -> None:
        """`pause`: the store's pause shared with its other clients (default: this client's
        own, which only its own requests respect)."""
        self.site_url = site_url
        self._api = API(
            url=site_url,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            wp_api=True,
            version=API_VERSION,
            timeout=timeout,
            verify_ssl=verify_ssl,
            user_agent="patronkit",
        )
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._pause = pause or StorePause()

    def __repr__(self) -> str:
        return f"WooCommerceClient({self.site_url!r})"

    # -- calls -----------------------------------------------------------------------------

    def get(self, endpoint: str, params: Mapping[str, str] | None = None) -> requests.Response:
        return self.request("GET", endpoint, params=params)

    def post(self, endpoint: str, data: Mapping[str, Any]) -> requests.Response:
        return self.request("POST", endpoint, data=data)

    def put(self, endpoint: str, data: Mapping[str, Any]) -> requests.Response:
        return self.request("PUT", endpoint, data=data)

    def delete(self, endpoint: str, params: Mapping[str, str] | None = None) -> requests.Response:
        return self.request("DELETE", endpoint, params=params)

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        """A 2xx response, or the matching error after retrying what is worth retrying."""
        label = f"{method} {endpoint}"
        attempts = self._retry.max_attempts
        slept = 0  # the latest of the store's pauses this request has waited out
        for attempt in range(attempts):
            slept = self._wait_for_store(label, slept)
            retry_after: float | None = None
            held = slept
            try:
                response = self._send(method, endpoint, params, data)
            except requests.RequestException as exc:
                reason = type(exc).__name__  # its message holds the URL: keep it out
            else:
                if response.status_code < 300:
                    return response
                reason = f"HTTP {response.status_code}"
                if response.status_code in (401, 403):
                    raise WooCommerceAuthError(
                        f"{label}: {reason} {error_code(response) or ''}".rstrip()
                    )
                if response.status_code not in _RETRYABLE_STATUSES:
                    code = error_code(response)
                    raise WooCommerceRequestError(
                        f"{label}: {reason} {code or ''}".rstrip(), response.status_code, code
                    )
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if retry_after is not None:
                    held = self._pause.hold(retry_after)
            if attempt + 1 >= attempts:
                break
            if retry_after is not None and retry_after >= MAX_RETRY_AFTER_SECONDS:
                break  # the store asks for a long pause: give up now, sync retries later
            if retry_after is not None:
                delay, slept = retry_after, held
            else:
                delay = self._retry.backoff(attempt, self._rng)
            logger.info("woocommerce %s: %s, retrying in %.1fs", label, reason, delay)
            self._sleep(delay)
        raise WooCommerceUnavailable(f"{label}: gave up after {attempt + 1} attempts ({reason})")

    def _wait_for_store(self, label: str, slept: int) -> int:
        """Wait out a pause another request to this store was told to take (a long one is
        left to the caller's own retry, as when we are told so ourselves); the generation
        of the pause now waited out. Looks again after each sleep: a request told to wait
        meanwhile extended the pause, and waking at the old time would call inside it."""
        while True:
            remaining, generation = self._pause.wait_time(slept)
            if remaining >= MAX_RETRY_AFTER_SECONDS:
                raise WooCommerceUnavailable(f"{label}: the store asked to wait {remaining:.0f}s")
            if remaining <= 0:
                return generation
            logger.info("woocommerce %s: the store asked to wait, %.1fs left", label, remaining)
            self._sleep(remaining)
            slept = generation

    def _send(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, Any] | None,
    ) -> requests.Response:
        # The library builds the URL, signs the request and sends it; copies, because it
        # mutates the params dict it is given (query-string auth adds the keys to it).
        query = dict(params or {})
        if method == "GET":
            response: requests.Response = self._api.get(endpoint, params=query)
        elif method == "DELETE":
            response = self._api.delete(endpoint, params=query)
        elif method == "POST":
            response = self._api.post(endpoint, dict(data or {}), params=query)
        elif method == "PUT":
            response = self._api.put(endpoint, dict(data or {}), params=query)
        else:
            raise ValueError(f"unsupported method {method}")
        return response

    # -- reading -------------------------------------------------------------------------------

    def get_json(self, endpoint: str, params: Mapping[str, str] | None = None) -> Any:
        return json_body(self.get(endpoint, params), f"GET {endpoint}")

    def pages(self, endpoint: str, params: Mapping[str, str]) -> Iterator[list[dict[str, Any]]]:
        """Every page of a collection, one list at a time, following ``X-WP-TotalPages``.

        The total is re-read from each answer (records added during the scan add pages); an
        empty page ends the scan even if the header promises more. Without the header (a proxy
        dropped it) a short page is the last one."""
        page_size = int(params.get("per_page", "10"))
        page = 1
        while page <= _MAX_PAGES:
            response = self.get(endpoint, {**params, "page": str(page)})
            items = json_body(response, f"GET {endpoint}")
            if not isinstance(items, list):
                raise WooCommerceUnavailable(f"GET {endpoint}: page {page} is not a list")
            records = [item for item in items if isinstance(item, dict)]
            if records:
                yield records
            total_pages = _int_header(response, "X-WP-TotalPages")
            if not items:
                return
            if total_pages is None and len(items) < page_size:
                return
            if total_pages is not None and page >= total_pages:
                return
            page += 1


def json_body(response: requests.Response, label: str) -> Any:
    try:
        return response.json()
    except ValueError:
        # A caching or security plugin answering HTML instead of the API.
        raise WooCommerceUnavailable(f"{label}: the answer is not JSON") from None


def error_code(response: requests.Response) -> str | None:
    """WooCommerce's machine-readable error code (``{"code": …}``), if the body has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code[:100] if isinstance(code, str) and code.isprintable() else None


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date, never negative."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(seconds, 0.0)


def _int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return None
