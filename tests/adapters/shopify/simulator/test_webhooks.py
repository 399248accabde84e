"""Webhook delivery: signatures, payload shapes, retries, duplicates, reordering."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter

import requests

from patronkit.adapters.shopify.simulator import ShopifySimulator
from patronkit.adapters.shopify.simulator.actions import CustomerFields

from .conftest import GraphQL, ReceivedWebhook, WebhookReceiver, subscribe


def _expected_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _first_customer(sim: ShopifySimulator, with_phone: bool = True) -> int:
    with sim.state.lock:
        return next(
            c.id
            for c in sim.state.customers.values()
            if (c.phone is not None) == with_phone
            and c.email_consent.marketing_state != "SUBSCRIBED"
        )


def test_consent_mutation_sends_signed_webhooks(
    simulator: ShopifySimulator, gql: GraphQL, receiver: WebhookReceiver
) -> None:
    for topic in (
        "CUSTOMERS_UPDATE",
        "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE",
        "CUSTOMERS_MARKETING_CONSENT_UPDATE",
    ):
        subscribe(gql, topic, receiver.url)
    customer_id = _first_customer(simulator)
    gql(
        """mutation($input: CustomerEmailMarketingConsentUpdateInput!) {
             customerEmailMarketingConsentUpdate(input: $input) { userErrors { message } } }""",
        {
            "input": {
                "customerId": f"gid://shopify/Customer/{customer_id}",
                "emailMarketingConsent": {
                    "marketingState": "SUBSCRIBED",
                    "marketingOptInLevel": "SINGLE_OPT_IN",
                },
            }
        },
    )
    assert simulator.wait_for_webhooks(5)
    assert sorted(receiver.topics()) == [
        "customers/update",
        "customers_email_marketing_consent/update",
    ]
    for webhook in receiver.received:
        headers = webhook.headers
        assert headers["X-Shopify-Hmac-Sha256"] == _expected_hmac(
            webhook.body, simulator.client_secret
        )
        assert headers["X-Shopify-Shop-Domain"] == simulator.shop_domain
        assert headers["X-Shopify-Api-Version"] == "2025-07"
        assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Triggered-At"]
    by_topic = {w.topic: json.loads(w.body) for w in receiver.received}
    consent = by_topic["customers_email_marketing_consent/update"]
    assert consent["customer_id"] == customer_id
    assert consent["email_marketing_consent"]["state"] == "subscribed"
    assert consent["email_marketing_consent"]["opt_in_level"] == "single_opt_in"
    update = by_topic["customers/update"]
    assert update["id"] == customer_id
    assert update["admin_graphql_api_id"] == f"gid://shopify/Customer/{customer_id}"
    # since 2025-01 the customer payload carries no consent and no tags
    assert not {"email_marketing_consent", "sms_marketing_consent", "tags"} & set(update)
    # bodies are escaped like Shopify's (\/), so re-serializing would break the HMAC
    assert b"gid:\\/\\/shopify\\/Customer" in next(
        w.body for w in receiver.received if w.topic == "customers/update"
    )


def test_sms_consent_from_admin_and_order_lifecycle(
    simulator: ShopifySimulator, gql: GraphQL, receiver: WebhookReceiver
) -> None:
    for topic in (
        "CUSTOMERS_MARKETING_CONSENT_UPDATE",
        "ORDERS_CREATE",
        "ORDERS_PAID",
        "ORDERS_FULFILLED",
        "REFUNDS_CREATE",
    ):
        subscribe(gql, topic, receiver.url)
    customer_id = _first_customer(simulator, with_phone=True)
    base = f"{simulator.url}/_simulator"
    response = requests.post(
        f"{base}/customers/{customer_id}/consent",
        json={"channel": "sms", "state": "unsubscribed"},
        timeout=5,
    )
    assert response.status_code == 200
    order = requests.post(
        f"{base}/orders", json={"customer_id": customer_id, "total": "59.90"}, timeout=5
    ).json()
    for event in ("paid", "fulfilled", "refunds"):
        assert (
            requests.post(f"{base}/orders/{order['id']}/{event}", json={}, timeout=5).status_code
            == 200
        )
    assert simulator.wait_for_webhooks(5)
    payloads = {w.topic: json.loads(w.body) for w in receiver.received}
    assert set(payloads) == {
        "customers_marketing_consent/update",
        "orders/create",
        "orders/paid",
        "orders/fulfilled",
        "refunds/create",
    }
    sms = payloads["customers_marketing_consent/update"]
    assert sms["id"] == customer_id and sms["phone"].startswith("+")
    assert sms["sms_marketing_consent"]["state"] == "unsubscribed"
    assert payloads["orders/create"]["total_price"] == "59.90"
    assert payloads["orders/paid"]["financial_status"] == "paid"
    assert payloads["refunds/create"]["order_id"] == order["id"]
    assert payloads["refunds/create"]["transactions"][0]["amount"] == "59.90"


def test_each_subscription_gets_its_own_delivery(
    simulator: ShopifySimulator, gql: GraphQL, receiver: WebhookReceiver
) -> None:
    subscribe(gql, "CUSTOMERS_UPDATE", receiver.url)
    subscribe(gql, "CUSTOMERS_UPDATE", receiver.url + "?second=1")
    simulator.actions.set_email_consent(_first_customer(simulator), "UNSUBSCRIBED")
    assert simulator.wait_for_webhooks(5)
    assert len(receiver.received) == 2
    assert len({w.event_id for w in receiver.received}) == 1
    assert len({w.headers["X-Shopify-Webhook-Id"] for w in receiver.received}) == 2


def test_failed_deliveries_are_retried_until_2xx(
    simulator: ShopifySimulator, gql: GraphQL, receiver: WebhookReceiver
) -> None:
    receiver.respond = lambda webhook, seen: 200 if seen >= 3 else 500
    subscribe(gql, "CUSTOMERS_CREATE", receiver.url)
    simulator.actions.create_customer(CustomerFields(email="retry@example.com"))
    assert simulator.wait_for_webhooks(5)
    assert len(receiver.received) == 4
    assert len({w.headers["X-Shopify-Webhook-Id"] for w in receiver.received}) == 1
    stats = simulator.stats()["webhooks"]
    assert (stats["attempts"], stats["failures"], stats["successes"], stats["retries"]) == (
        4,
        3,
        1,
        3,
    )
    assert stats["pending"] == 0


def test_gives_up_after_eight_retries(
    simulator: ShopifySimulator, gql: GraphQL, receiver: WebhookReceiver
) -> None:
    receiver.respond = lambda webhook, seen: 503
    simulator.configure_webhooks(retry_delays=[0.01] * 8)
    subscribe(gql, "CUSTOMERS_UPDATE", receiver.url)
    simulator.actions.set_email_consent(_first_customer(simulator), "UNSUBSCRIBED")
    assert simulator.wait_for_webhooks(5)
    assert len(receiver.received) == 9
    assert simulator.stats()["webhooks"]["given_up"] == 1


def test_chaos_duplicates_and_reordering(
    simulator: ShopifySimulator, gql: GraphQL, receiver: WebhookReceiver
) -> None:
    requests.put(
        f"{simulator.url}/_simulator/config/webhooks",
        json={"duplicate_rate": 0.5, "reorder_window_seconds": 0.3, "seed": 3},
        timeout=5,
    ).raise_for_status()
    subscribe(gql, "CUSTOMERS_UPDATE", receiver.url)
    with simulator.state.lock:
        ids = sorted(simulator.state.customers)[:20]
    emitted = []
    for customer_id in ids:
        simulator.actions.update_customer(customer_id, CustomerFields(note=f"n{customer_id}"))
        emitted.append(customer_id)
    assert simulator.wait_for_webhooks(10)
    arrivals = [json.loads(w.body)["id"] for w in receiver.received]
    counts = Counter(w.event_id for w in receiver.received)
    duplicates = sum(n - 1 for n in counts.values())
    assert set(arrivals) == set(emitted)
    assert len(counts) == 20
    assert duplicates == simulator.stats()["webhooks"]["duplicates_sent"] > 0
    first_seen = list(dict.fromkeys(arrivals))
    assert first_seen != emitted  # some events overtook others


def test_compliance_and_uninstall(
    simulator: ShopifySimulator, gql: GraphQL, token: str, receiver: WebhookReceiver
) -> None:
    subscribe(gql, "APP_UNINSTALLED", receiver.url)
    base = f"{simulator.url}/_simulator"
    requests.put(
        f"{base}/config/compliance", json={"url": receiver.url}, timeout=5
    ).raise_for_status()
    customer_id = _first_customer(simulator)
    requests.post(
        f"{base}/compliance/customers-data-request", json={"customer_id": customer_id}, timeout=5
    ).raise_for_status()
    requests.post(
        f"{base}/compliance/customers-redact", json={"customer_id": customer_id}, timeout=5
    ).raise_for_status()
    requests.post(f"{base}/app/uninstall", timeout=5).raise_for_status()
    requests.post(f"{base}/compliance/shop-redact", timeout=5).raise_for_status()
    assert simulator.wait_for_webhooks(5)
    payloads: dict[str, ReceivedWebhook] = {w.topic: w for w in receiver.received}
    assert set(payloads) == {
        "customers/data_request",
        "customers/redact",
        "app/uninstalled",
        "shop/redact",
    }
    data_request = json.loads(payloads["customers/data_request"].body)
    assert data_request["customer"]["id"] == customer_id
    assert {"shop_id", "shop_domain", "orders_requested", "data_request"} <= set(data_request)
    assert set(json.loads(payloads["customers/redact"].body)) >= {
        "shop_id",
        "shop_domain",
        "customer",
        "orders_to_redact",
    }
    assert json.loads(payloads["shop/redact"].body)["shop_domain"] == simulator.shop_domain
    # after uninstalling, the app's token no longer works and subscriptions are gone
    response = requests.post(
        simulator.graphql_url(),
        json={"query": "{ shop { id } }"},
        headers={"X-Shopify-Access-Token": token},
        timeout=5,
    )
    assert response.status_code == 401
    with simulator.state.lock:
        assert simulator.state.access_tokens == {} and simulator.state.webhook_subscriptions == {}
