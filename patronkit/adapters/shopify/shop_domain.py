"""Validate and normalize a Shopify shop domain (``{name}.myshopify.com``).

The pattern is the one Shopify's own JS library uses to sanitize the ``shop`` parameter.
Anything that reaches an outbound URL or a database key must pass through here first,
so a crafted ``shop`` value can never point our requests (and tokens) at another host.
"""

from __future__ import annotations

import re

# Shopify JS `sanitizeShop`; trailing slashes are stripped before matching.
SHOP_DOMAIN_PATTERN = re.compile(
    r"[a-zA-Z0-9][a-zA-Z0-9-_]*\.(myshopify\.com|shopify\.com|myshopify\.io|shop\.dev)"
)
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_MAX_LENGTH = 255  # DNS name limit; also bounds the work done on hostile input


class InvalidShopDomain(ValueError):
    """The value is not a Shopify shop domain."""


def normalize_shop_domain(value: str | None) -> str:
    """Return ``value`` as a bare lowercase shop domain, or raise `InvalidShopDomain`.

    Accepts ``https://Name.myshopify.com/`` and returns ``name.myshopify.com``.
    """
    if not value or not value.strip():
        raise InvalidShopDomain("shop domain is missing")
    candidate = value.strip()
    if len(candidate) > _MAX_LENGTH:
        raise InvalidShopDomain("shop domain is too long")
    # Host names are case-insensitive; lowercase first so `X.MyShopify.com` is accepted too.
    candidate = _SCHEME.sub("", candidate).rstrip("/").lower()
    # fullmatch, not `$`: `$` would also accept a trailing newline.
    if not SHOP_DOMAIN_PATTERN.fullmatch(candidate):
        raise InvalidShopDomain(f"not a Shopify shop domain: {value[:80]!r}")
    return candidate


def is_valid_shop_domain(value: str | None) -> bool:
    """True when `normalize_shop_domain` would accept ``value``."""
    try:
        normalize_shop_domain(value)
    except InvalidShopDomain:
        return False
    return True
