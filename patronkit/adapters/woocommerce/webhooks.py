"""WooCommerce webhook deliveries: headers, signature, the creation ping, delivery keys.

Everything works on the raw body bytes and a plain header mapping (names in any case).
Verify before parsing: the signature covers the exact bytes WooCommerce sent
(``trim(wp_json_encode(payload))``), which a re-serialized body would not reproduce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from patronkit.adapters.woocommerce.site_url import InvalidSiteUrl, normalize_site_url

HEADER_PREFIX = "x-wc-webhook-"
SOURCE_HEADER = "X-WC-Webhook-Source"  # home_url('/'): the store, with a trailing slash
TOPIC_HEADER = "X-WC-Webhook-Topic"  # resource.event, e.g. customer.updated
SIGNATURE_HEADER = "X-WC-Webhook-Signature"  # base64(HMAC-SHA256(raw body, webhook secret))

# What patronkit subscribes to. Coupons are subscribed now so referral rewards (later) see
# redemptions from the start; they are IGNORED until then.
SUBSCRIBED_TOPICS: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "order.created",
    "order.updated",
    "coupon.created",
    "coupon.updated",
)

_TOPIC_SHAPE = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")
_MAX_TOPIC = 128
# The ping WooCommerce sends when a webhook is created (WC_Webhook::deliver_ping).
_PING_BODY = re.compile(rb"webhook_id=[0-9]{1,20}")


class WebhookHeaderError(ValueError):
    """A required X-WC-Webhook-* header is missing or malformed."""


@dataclass(frozen=True)
class WebhookHeaders:
    site_url: str  # normalized, the connection's domain
    topic: str


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value.strip() for name, value in headers.items()}


def parse_headers(headers: Mapping[str, str]) -> WebhookHeaders:
    """Store and topic from a delivery's headers, or `WebhookHeaderError`."""
    lowered = _lowered(headers)
    source = lowered.get(SOURCE_HEADER.lower())
    topic = lowered.get(TOPIC_HEADER.lower(), "").lower()
    if not source:
        raise WebhookHeaderError(f"{SOURCE_HEADER} header is missing")
    if not topic:
        raise WebhookHeaderError(f"{TOPIC_HEADER} header is missing")
    if len(topic) > _MAX_TOPIC or not _TOPIC_SHAPE.fullmatch(topic):
        raise WebhookHeaderError(f"{TOPIC_HEADER} header is malformed")
    try:
        site_url = normalize_site_url(source)
    except InvalidSiteUrl:
        raise WebhookHeaderError(f"{SOURCE_HEADER} header is not a site URL") from None
    return WebhookHeaders(site_url=site_url, topic=topic)


def compute_signature(raw_body: bytes, secret: str) -> str:
    """What WooCommerce sends in X-WC-Webhook-Signature for this body and secret."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(raw_body: bytes, headers: Mapping[str, str], secret: object) -> bool:
    """Constant-time check of the signature header against the raw body."""
    signature = _lowered(headers).get(SIGNATURE_HEADER.lower())
    if not signature or not isinstance(secret, str) or not secret:
        return False
    expected = compute_signature(raw_body, secret)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def is_ping(headers: Mapping[str, str], raw_body: bytes) -> bool:
    """The unsigned ``webhook_id=N`` form post WooCommerce sends when a webhook is created.

    Strict on purpose: no X-WC-Webhook-* header at all, and exactly that body. Anything else
    without headers is not a ping and gets the ordinary 400."""
    if any(name.lower().startswith(HEADER_PREFIX) for name in headers):
        return False
    return _PING_BODY.fullmatch(raw_body.strip()) is not None


def delivery_key(topic: str, raw_body: bytes) -> str:
    """``topic:sha256(body)``.

    X-WC-Webhook-Delivery-ID is no dedupe key: WooCommerce computes it as
    ``wp_hash(webhook id . current second)``, so two different events of one webhook in the
    same second share it, and the second would be dropped. The content is: a byte-identical
    redelivery is the same state and a no-op, two different states are two keys, and core's
    idempotence absorbs an identical state sent twice on purpose. The topic is part of the
    key because one state can matter to two topics (created, then updated with equal bytes).
    """
    return f"{topic}:{hashlib.sha256(raw_body).hexdigest()}"
