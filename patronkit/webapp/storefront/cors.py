"""CORS for the storefront API: only the shop's own storefront may call it from a browser.

Allowed origins are `https://<shop domain>` of the shop named in the URL, plus the extra
origins in the merchant's settings (a custom storefront domain). No credentials are used, so
no cookies are sent or allowed. A request carrying any other Origin is refused outright
(403) rather than merely left unreadable, so a foreign page cannot make it act blind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from uuid import UUID

from flask import Response, jsonify

from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.ports import UnitOfWork

ALLOWED_HEADERS = frozenset({"content-type"})
PREFLIGHT_MAX_AGE_SECONDS = 600


def shop_origin(shop: ShopConnection) -> str:
    return f"https://{shop.domain}"


class OriginPolicy:
    """Allowed origins per shop or per merchant, remembered for a few seconds: a storefront
    sends a preflight and a request per action, and each needs the same answer."""

    TTL_SECONDS = 5.0
    MAX_ENTRIES = 10_000

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._cache: dict[object, tuple[float, frozenset[str] | None]] = {}
        self._lock = threading.Lock()

    def for_shop(self, platform: str, domain: str) -> frozenset[str] | None:
        """None if no such active shop."""

        def load(uow: UnitOfWork) -> frozenset[str] | None:
            shop = uow.merchants.shop_by_domain(platform, domain)
            if shop is None or not shop.active:
                return None
            extra = uow.tenant(shop.merchant_id).settings.get().storefront_origins
            return frozenset([shop_origin(shop), *extra])

        return self._cached(("shop", platform, domain.strip().lower()), load)

    def for_merchant(self, merchant_id: UUID) -> frozenset[str]:
        """Every storefront of the merchant (for links that are not tied to one shop)."""

        def load(uow: UnitOfWork) -> frozenset[str]:
            tenant = uow.tenant(merchant_id)
            shops = [shop_origin(s) for s in tenant.shops.list() if s.active]
            return frozenset([*shops, *tenant.settings.get().storefront_origins])

        return self._cached(("merchant", merchant_id), load) or frozenset()

    def _cached(
        self, key: object, load: Callable[[UnitOfWork], frozenset[str] | None]
    ) -> frozenset[str] | None:
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        with self._unit_of_work() as uow:
            value = load(uow)
        with self._lock:
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = (now + self.TTL_SECONDS, value)
        return value


def refused(message: str) -> Response:
    response = jsonify(error="origin_not_allowed", message=message)
    response.status_code = 403
    response.vary.add("Origin")
    return response


def preflight(
    origin: str | None,
    allowed: Iterable[str],
    methods: Iterable[str],
    requested_method: str | None,
    requested_headers: str | None,
) -> Response:
    if not origin or origin not in set(allowed):
        return refused("this origin may not call the storefront API for this shop")
    methods = sorted(set(methods) - {"OPTIONS", "HEAD"})
    if requested_method not in methods:
        return refused(f"method {requested_method} is not allowed here")
    headers = {h.strip().lower() for h in (requested_headers or "").split(",") if h.strip()}
    if not headers <= ALLOWED_HEADERS:
        return refused("only the Content-Type request header is allowed")
    response = Response(status=204)
    allow(response, origin)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


def allow(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")
