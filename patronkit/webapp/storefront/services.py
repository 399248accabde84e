"""The storefront's parts, built once per app from its runtime and configuration.

Rate limits can be tuned per app through Flask config (e.g. `create_app(overrides=…)`):
STOREFRONT_LIMIT_PER_IP, STOREFRONT_LIMIT_PER_SHOP and STOREFRONT_MAIL_PER_PERSON, each
(burst capacity, tokens refilled per second).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import current_app

from patronkit.webapp.ratelimit import RateLimiter, TokenBuckets
from patronkit.webapp.services import runtime
from patronkit.webapp.storefront.capture import ConsentCapture
from patronkit.webapp.storefront.cors import OriginPolicy
from patronkit.webapp.storefront.notifier import MailNotifier
from patronkit.webapp.storefront.preferences import ShopperPreferences

DEFAULT_LIMITS: dict[str, tuple[float, float]] = {
    # A shopper clicking around: a burst of 30, then one request every two seconds.
    "STOREFRONT_LIMIT_PER_IP": (30.0, 0.5),
    # A busy shop on sale day: a burst of 600, then ten a second.
    "STOREFRONT_LIMIT_PER_SHOP": (600.0, 10.0),
    # Emails to one person from the storefront: three, then one every twenty minutes.
    "STOREFRONT_MAIL_PER_PERSON": (3.0, 1 / 1200),
}

_EXTENSION = "patronkit.storefront"
_lock = threading.Lock()


@dataclass(frozen=True)
class Storefront:
    capture: ConsentCapture
    notifier: MailNotifier
    preferences: ShopperPreferences
    origins: OriginPolicy
    per_ip: RateLimiter
    per_shop: RateLimiter
    trusted_proxies: int


def _limiter(name: str) -> TokenBuckets:
    capacity, refill = current_app.config.get(name, DEFAULT_LIMITS[name])
    return TokenBuckets(capacity, refill)


def storefront() -> Storefront:
    found: Storefront | None = current_app.extensions.get(_EXTENSION)
    if found is not None:
        return found
    with _lock:
        found = current_app.extensions.get(_EXTENSION)
        if found is None:
            run = runtime()
            notifier = MailNotifier(
                run.sync,
                run.mail,
                run.settings.public_url,
                _limiter("STOREFRONT_MAIL_PER_PERSON"),
            )
            found = Storefront(
                capture=ConsentCapture(run.sync, notifier),
                notifier=notifier,
                preferences=ShopperPreferences(run.sync),
                origins=OriginPolicy(lambda: run.unit_of_work(read_only=True)),
                per_ip=_limiter("STOREFRONT_LIMIT_PER_IP"),
                per_shop=_limiter("STOREFRONT_LIMIT_PER_SHOP"),
                trusted_proxies=run.settings.trusted_proxies,
            )
            current_app.extensions[_EXTENSION] = found
    return found
