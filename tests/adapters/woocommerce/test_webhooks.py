import base64
import hashlib
import hmac

import pytest

from patronkit.adapters.woocommerce.gateway import WooCommerceGateway
from patronkit.adapters.woocommerce.webhooks import (
    SUBSCRIBED_TOPICS,
    WebhookHeaderError,
    compute_signature,
    delivery_key,
    is_ping,
    parse_headers,
    verify_signature,
)
from patronkit.core.storefront import InvalidWebhook, ShopAccess

SECRET = "s3cr3t-from-token-urlsafe"
SITE = "https://shop.example.com"
# WooCommerce's body is trim(wp_json_encode(payload)): slashes escaped, so never re-serialize.
BODY = b'{"id":25,"email":"john.doe@example.com","avatar_url":"https:\\/\\/secure.gravatar.com"}'


def signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def headers(body: bytes = BODY, **changes: str) -> dict[str, str]:
    sent = {
        "X-WC-Webhook-Source": f"{SITE}/",
        "X-WC-Webhook-Topic": "customer.updated",
        "X-WC-Webhook-Resource": "customer",
        "X-WC-Webhook-Event": "updated",
        "X-WC-Webhook-Signature": signature(body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "8e2f1b0c3f1c9e5d7a6b4c2d1e0f9a8b",
    }
    sent.update(changes)
    return sent


def shop(secret: str | None = SECRET) -> ShopAccess:
    credentials = {"consumer_key": "ck_x", "consumer_secret": "cs_x"}
    if secret is not None:
        credentials["webhook_secret"] = secret
    return ShopAccess(SITE, SITE, credentials)


# -- signature ----------------------------------------------------------------------------------


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    assert compute_signature(b"hello", "hush") == signature(b"hello", "hush")


def test_a_good_signature_verifies() -> None:
    assert verify_signature(BODY, headers(), SECRET)
    assert WooCommerceGateway().verify_webhook(BODY, headers(), shop())


def test_header_names_match_in_any_case() -> None:
    lowered = {name.lower(): value for name, value in headers().items()}
    assert verify_signature(BODY, lowered, SECRET)


@pytest.mark.parametrize(
    ("body", "sent", "secret"),
    [
        (BODY + b" ", headers(), SECRET),  # body changed after signing
        (BODY, headers(**{"X-WC-Webhook-Signature": signature(BODY, "other")}), SECRET),
        (BODY, headers(), "another-shops-secret"),
        (BODY, headers(**{"X-WC-Webhook-Signature": "not base64 at all ✓"}), SECRET),
    ],
    ids=["tampered-body", "wrong-secret-signed", "wrong-shop-secret", "garbage"],
)
def test_a_bad_signature_fails(body: bytes, sent: dict[str, str], secret: str) -> None:
    assert not verify_signature(body, sent, secret)


def test_a_missing_signature_or_secret_fails() -> None:
    unsigned = {k: v for k, v in headers().items() if k != "X-WC-Webhook-Signature"}
    assert not verify_signature(BODY, unsigned, SECRET)
    assert not verify_signature(BODY, headers(), "")
    assert not verify_signature(BODY, headers(), None)
    assert not WooCommerceGateway().verify_webhook(BODY, headers(), shop(secret=None))


# -- headers ------------------------------------------------------------------------------------


def test_headers_name_the_store_as_its_normalized_site_url() -> None:
    parsed = parse_headers(headers(**{"X-WC-Webhook-Source": "https://Shop.Example.com/"}))
    assert (parsed.site_url, parsed.topic) == (SITE, "customer.updated")
    envelope = WooCommerceGateway().identify_webhook(headers())
    assert (envelope.shop_domain, envelope.topic, envelope.triggered_at) == (
        SITE,
        "customer.updated",
        None,
    )


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {k: v for k, v in headers().items() if k != "X-WC-Webhook-Source"},
        {k: v for k, v in headers().items() if k != "X-WC-Webhook-Topic"},
        headers(**{"X-WC-Webhook-Source": "not a url"}),
        headers(**{"X-WC-Webhook-Source": "https://user@shop.example.com/"}),
        headers(**{"X-WC-Webhook-Topic": "customer/updated"}),
        headers(**{"X-WC-Webhook-Topic": "x." + "y" * 200}),
    ],
)
def test_missing_or_malformed_headers_are_refused(sent: dict[str, str]) -> None:
    with pytest.raises(WebhookHeaderError):
        parse_headers(sent)
    with pytest.raises(InvalidWebhook):
        WooCommerceGateway().identify_webhook(sent)


# -- the creation ping --------------------------------------------------------------------------


def test_the_creation_ping_is_a_handshake() -> None:
    ping_headers = {
        "User-Agent": "WooCommerce/9.0 Hookshot (WordPress/6.5)",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert is_ping(ping_headers, b"webhook_id=12")
    assert WooCommerceGateway().is_handshake(ping_headers, b"webhook_id=12")


@pytest.mark.parametrize(
    ("sent", "body"),
    [
        (headers(), b"webhook_id=12"),  # a real delivery is never a ping
        ({"X-WC-Webhook-Topic": "action.ping"}, b"webhook_id=12"),
        ({}, b"webhook_id=12&evil=1"),
        ({}, b"webhook_id="),
        ({}, b"webhook_id=abc"),
        ({}, b'{"webhook_id":12}'),
        ({}, b""),
        ({}, BODY),
    ],
)
def test_anything_else_is_not_a_handshake(sent: dict[str, str], body: bytes) -> None:
    assert not is_ping(sent, body)


# -- delivery keys ------------------------------------------------------------------------------


def test_the_same_body_gives_the_same_key() -> None:
    gateway = WooCommerceGateway()
    first = gateway.delivery_key(gateway.identify_webhook(headers()), BODY)
    # A redelivery comes with another Delivery-ID; the content decides.
    redelivered = headers(**{"X-WC-Webhook-Delivery-ID": "other"})
    again = gateway.delivery_key(gateway.identify_webhook(redelivered), BODY)
    assert first == again
    assert first.startswith("customer.updated:")
    assert len(first) < 255  # the inbox column


def test_the_same_delivery_id_with_different_bodies_gives_different_keys() -> None:
    # wp_hash(webhook id . current second): two events of one webhook in one second share it.
    gateway = WooCommerceGateway()
    other = BODY.replace(b"john.doe", b"jane.roe")
    same_id = {"X-WC-Webhook-Delivery-ID": "8e2f1b0c3f1c9e5d7a6b4c2d1e0f9a8b"}
    first = gateway.identify_webhook(headers(**same_id))
    second = gateway.identify_webhook(headers(other, **same_id))
    assert gateway.delivery_key(first, BODY) != gateway.delivery_key(second, other)


def test_the_topic_is_part_of_the_key() -> None:
    assert delivery_key("customer.created", BODY) != delivery_key("customer.updated", BODY)


def test_subscribed_topics() -> None:
    assert set(SUBSCRIBED_TOPICS) == {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "order.created",
        "order.updated",
        "coupon.created",
        "coupon.updated",
    }
