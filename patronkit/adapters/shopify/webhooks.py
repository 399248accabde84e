"""Shopify webhook verification and header parsing, on raw bytes and plain header mappings.

Verify before parsing: the HMAC covers the exact bytes Shopify sent, and a parsed-then-
re-serialized body would not match (Shopify escapes ``/`` and ``&`` in its JSON).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from patronkit.adapters.shopify.shop_domain import InvalidShopDomain, normalize_shop_domain

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_DOMAIN_HEADER = "X-Shopify-Shop-Domain"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
API_VERSION_HEADER = "X-Shopify-API-Version"

# Topics patronkit subscribes to through webhookSubscriptionCreate, with their GraphQL enum.
TOPIC_TO_GRAPHQL_ENUM: Mapping[str, str] = {
    "customers/create": "CUSTOMERS_CREATE",
    "customers/update": "CUSTOMERS_UPDATE",
    "customers/delete": "CUSTOMERS_DELETE",
    "customers_email_marketing_consent/update": "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE",
    "customers_marketing_consent/update": "CUSTOMERS_MARKETING_CONSENT_UPDATE",
    "orders/create": "ORDERS_CREATE",
    "orders/updated": "ORDERS_UPDATED",
    "orders/paid": "ORDERS_PAID",
    "orders/fulfilled": "ORDERS_FULFILLED",
    "refunds/create": "REFUNDS_CREATE",
    "app/uninstalled": "APP_UNINSTALLED",
}
SUBSCRIBED_TOPICS: tuple[str, ...] = tuple(TOPIC_TO_GRAPHQL_ENUM)

# Mandatory privacy webhooks: configured in the app's settings, not subscribable via the API.
# A bad HMAC on these must be answered 401.
COMPLIANCE_TOPICS: tuple[str, ...] = ("customers/data_request", "customers/redact", "shop/redact")

_TOPIC_SHAPE = re.compile(r"[a-z0-9_.]+/[a-z0-9_.]+")
_MAX_ID_LENGTH = 255


class WebhookHeaderError(ValueError):
    """A required X-Shopify-* header is missing or malformed."""


@dataclass(frozen=True)
class WebhookHeaders:
    topic: str
    shop_domain: str
    event_id: str | None  # same across redeliveries of one event: the dedupe key
    webhook_id: str
    triggered_at: datetime | None  # aware; None when absent or unparseable
    api_version: str | None

    @property
    def dedupe_key(self) -> str:
        """Event id when Shopify sent one, else the webhook id."""
        return self.event_id or self.webhook_id


def compute_webhook_hmac(raw_body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body, as sent in ``X-Shopify-Hmac-Sha256``."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_webhook(raw_body: bytes, hmac_header: str | None, secret: str) -> bool:
    """Constant-time check of the header against the raw body. Never parse before this."""
    if not hmac_header or not secret:
        return False
    expected = compute_webhook_hmac(raw_body, secret)
    return hmac.compare_digest(expected.encode("ascii"), hmac_header.strip().encode())


def parse_headers(headers: Mapping[str, str]) -> WebhookHeaders:
    """Read the X-Shopify-* headers (names matched case-insensitively)."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}

    def required(name: str) -> str:
        value = lowered.get(name.lower())
        if not value:
            raise WebhookHeaderError(f"{name} header is missing")
        if len(value) > _MAX_ID_LENGTH:
            raise WebhookHeaderError(f"{name} header is too long")
        return value

    topic = required(TOPIC_HEADER)
    if not _TOPIC_SHAPE.fullmatch(topic):
        raise WebhookHeaderError(f"{TOPIC_HEADER} header is malformed")
    try:
        shop_domain = normalize_shop_domain(required(SHOP_DOMAIN_HEADER))
    except InvalidShopDomain:
        raise WebhookHeaderError(f"{SHOP_DOMAIN_HEADER} header is not a shop domain") from None
    webhook_id = required(WEBHOOK_ID_HEADER)
    event_id = lowered.get(EVENT_ID_HEADER.lower()) or None
    if event_id is not None and len(event_id) > _MAX_ID_LENGTH:
        raise WebhookHeaderError(f"{EVENT_ID_HEADER} header is too long")
    return WebhookHeaders(
        topic=topic,
        shop_domain=shop_domain,
        event_id=event_id,
        webhook_id=webhook_id,
        triggered_at=_parse_timestamp(lowered.get(TRIGGERED_AT_HEADER.lower())),
        api_version=lowered.get(API_VERSION_HEADER.lower()) or None,
    )


def graphql_topic(topic: str) -> str:
    """``customers/update`` → ``CUSTOMERS_UPDATE``; KeyError for topics we don't subscribe to."""
    return TOPIC_TO_GRAPHQL_ENUM[topic]


def _parse_timestamp(value: str | None) -> datetime | None:
    # Lenient on purpose: the body is authentic (HMAC) even if this unsigned header is odd,
    # and rejecting it would make Shopify retry and eventually drop our subscription.
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
