import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from patronkit.adapters.shopify.webhooks import (
    COMPLIANCE_TOPICS,
    SUBSCRIBED_TOPICS,
    TOPIC_TO_GRAPHQL_ENUM,
    WebhookHeaderError,
    compute_webhook_hmac,
    graphql_topic,
    parse_headers,
    verify_webhook,
)

SECRET = "hush"
# Shopify escapes "/" in its JSON; re-serializing would change the bytes and the HMAC.
RAW_BODY = b'{"id":820982911946154508,"email":"jon@example.com","note":"a\\/b & c"}'


def expected_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_known_vector() -> None:
    # Independently computed: HMAC-SHA256(key="hush", msg=b"hello"), base64.
    assert compute_webhook_hmac(b"hello", "hush") == expected_signature(b"hello", "hush")
    assert verify_webhook(b"hello", expected_signature(b"hello", "hush"), "hush")


def test_verifies_raw_bytes() -> None:
    assert verify_webhook(RAW_BODY, expected_signature(RAW_BODY, SECRET), SECRET)


def test_reserialized_body_fails() -> None:
    signature = expected_signature(RAW_BODY, SECRET)
    reserialized = json.dumps(json.loads(RAW_BODY), separators=(",", ":")).encode()
    assert reserialized != RAW_BODY
    assert not verify_webhook(reserialized, signature, SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "not-base64",
        hmac.new(SECRET.encode(), RAW_BODY, hashlib.sha256).hexdigest(),  # hex, not base64
        expected_signature(RAW_BODY, "other-secret"),
        expected_signature(RAW_BODY + b" ", SECRET),
    ],
)
def test_rejects_bad_signatures(header: str | None) -> None:
    assert not verify_webhook(RAW_BODY, header, SECRET)


def test_empty_secret_never_verifies() -> None:
    assert not verify_webhook(RAW_BODY, expected_signature(RAW_BODY, ""), "")


FULL_HEADERS = {
    "X-Shopify-Topic": "customers/update",
    "X-Shopify-Shop-Domain": "Demo.myshopify.com",
    "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "X-Shopify-Triggered-At": "2023-03-29T18:00:27.877041743Z",
    "X-Shopify-API-Version": "2026-10",
    "X-Shopify-Hmac-Sha256": "ignored",
}


def test_parse_headers() -> None:
    parsed = parse_headers(FULL_HEADERS)
    assert parsed.topic == "customers/update"
    assert parsed.shop_domain == "demo.myshopify.com"
    assert parsed.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert parsed.webhook_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert parsed.triggered_at == datetime(2023, 3, 29, 18, 0, 27, 877041, tzinfo=UTC)
    assert parsed.api_version == "2026-10"
    assert parsed.dedupe_key == parsed.event_id


def test_parse_headers_is_case_insensitive() -> None:
    parsed = parse_headers({name.lower(): value for name, value in FULL_HEADERS.items()})
    assert parsed.topic == "customers/update"


def test_optional_headers() -> None:
    headers = {
        "X-Shopify-Topic": "shop/redact",
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
        "X-Shopify-Webhook-Id": "w1",
        "X-Shopify-Triggered-At": "yesterday",
    }
    parsed = parse_headers(headers)
    assert parsed.event_id is None
    assert parsed.triggered_at is None
    assert parsed.api_version is None
    assert parsed.dedupe_key == "w1"


@pytest.mark.parametrize(
    ("missing", "overrides"),
    [
        ("X-Shopify-Topic", {}),
        ("X-Shopify-Shop-Domain", {}),
        ("X-Shopify-Webhook-Id", {}),
        (None, {"X-Shopify-Shop-Domain": "evil.example.com"}),
        (None, {"X-Shopify-Topic": "customers update"}),
        (None, {"X-Shopify-Webhook-Id": "x" * 1000}),
    ],
)
def test_parse_headers_errors(missing: str | None, overrides: dict[str, str]) -> None:
    headers = {**FULL_HEADERS, **overrides}
    if missing:
        del headers[missing]
    with pytest.raises(WebhookHeaderError):
        parse_headers(headers)


def test_topics() -> None:
    assert SUBSCRIBED_TOPICS == (
        "customers/create",
        "customers/update",
        "customers/delete",
        "customers_email_marketing_consent/update",
        "customers_marketing_consent/update",
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/fulfilled",
        "refunds/create",
        "app/uninstalled",
    )
    assert COMPLIANCE_TOPICS == ("customers/data_request", "customers/redact", "shop/redact")
    assert not set(COMPLIANCE_TOPICS) & set(SUBSCRIBED_TOPICS)
    for topic, enum in TOPIC_TO_GRAPHQL_ENUM.items():
        assert enum == topic.upper().replace("/", "_")
    assert graphql_topic("customers_email_marketing_consent/update") == (
        "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE"
    )
    with pytest.raises(KeyError):
        graphql_topic("shop/redact")
