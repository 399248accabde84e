"""Webhook delivery as class-wc-webhook.php does it, and the simulator's chaos extras."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import requests
from woocommerce import API

from patronkit.adapters.woocommerce.simulator import WooCommerceSimulator

from .conftest import Received, Receiver


def _subscribe(wcapi: API, topic: str, url: str, secret: str = "hook-secret") -> dict[str, Any]:
    response = wcapi.post("webhooks", {"topic": topic, "delivery_url": url, "secret": secret})
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


def _customer_ids(simulator: WooCommerceSimulator, count: int) -> list[int]:
    with simulator.state.lock:
        ids = sorted(c.id for c in simulator.state.customers.values() if c.role == "customer")
    return ids[:count]


def _start_of_second() -> None:
    """Wait until a new second has just begun, so what follows fits in one second."""
    while time.time() % 1 > 0.2:
        time.sleep(0.02)


def _body(delivery: Received) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(delivery.body)
    return body


def test_delivery_is_signed_and_labelled(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    webhook = _subscribe(wcapi, "customer.updated", receiver.url, "top/secret")
    customer_id = _customer_ids(simulator, 1)[0]
    assert wcapi.put(f"customers/{customer_id}", {"last_name": "Ng"}).status_code == 200
    assert simulator.wait_for_webhooks(10)
    [delivery] = receiver.deliveries()
    raw = delivery.body
    expected = base64.b64encode(hmac.new(b"top/secret", raw, hashlib.sha256).digest()).decode()
    assert delivery.headers["X-Wc-Webhook-Signature"] == expected
    assert delivery.headers["X-Wc-Webhook-Source"] == simulator.url + "/"
    assert delivery.headers["X-Wc-Webhook-Topic"] == "customer.updated"
    assert delivery.headers["X-Wc-Webhook-Resource"] == "customer"
    assert delivery.headers["X-Wc-Webhook-Event"] == "updated"
    assert delivery.headers["X-Wc-Webhook-Id"] == str(webhook["id"])
    assert len(delivery.headers["X-Wc-Webhook-Delivery-Id"]) == 32
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers["User-Agent"].startswith("WooCommerce/")
    body = _body(delivery)
    assert body["id"] == customer_id and body["last_name"] == "Ng"
    # PHP's json_encode: compact, slashes escaped; re-serializing would break the signature
    assert b"https:\\/\\/secure.gravatar.com" in raw and b'", "' not in raw
    assert json.dumps(body).encode() != raw


def test_deleted_event_sends_only_the_id(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    _subscribe(wcapi, "customer.deleted", receiver.url)
    customer_id = _customer_ids(simulator, 1)[0]
    response = wcapi.delete(f"customers/{customer_id}", params={"force": True})
    assert response.status_code == 200 and response.json()["id"] == customer_id
    assert simulator.wait_for_webhooks(10)
    [delivery] = receiver.deliveries()
    assert delivery.body == f'{{"id":{customer_id}}}'.encode()
    assert wcapi.get(f"customers/{customer_id}").status_code == 404


def test_delivery_id_is_shared_within_one_second(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    _subscribe(wcapi, "customer.updated", receiver.url)
    customers = _customer_ids(simulator, 6)
    shared: set[str] = set()
    # Two deliveries right after a second begins normally share that second; a loaded
    # machine may straddle a boundary, so allow a few attempts.
    for first, second in zip(customers[0::2], customers[1::2], strict=True):
        receiver.received.clear()
        _start_of_second()
        batch = {"update": [{"id": first, "first_name": "A"}, {"id": second, "first_name": "B"}]}
        assert wcapi.post("customers/batch", batch).status_code == 200
        assert simulator.wait_for_webhooks(10)
        deliveries = receiver.deliveries()
        assert sorted(_body(d)["id"] for d in deliveries) == [first, second]
        ids = {d.headers["X-Wc-Webhook-Delivery-Id"] for d in deliveries}
        if len(ids) == 1:  # two deliveries, one "delivery id": it is no dedupe key
            shared = ids
            break
    assert len(shared) == 1

    time.sleep(1.1)
    assert wcapi.put(f"customers/{customers[0]}", {"first_name": "C"}).status_code == 200
    assert simulator.wait_for_webhooks(10)
    later = receiver.deliveries()[-1]
    assert later.headers["X-Wc-Webhook-Delivery-Id"] not in shared


def test_disabled_after_the_seventh_consecutive_failure(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    receiver.respond = lambda request: 200 if request.is_ping else 500
    webhook = _subscribe(wcapi, "customer.updated", receiver.url)
    customers = _customer_ids(simulator, 8)
    for index, customer_id in enumerate(customers[:6]):
        wcapi.put(f"customers/{customer_id}", {"first_name": f"F{index}"})
        assert simulator.wait_for_webhooks(10)
    state = wcapi.get(f"webhooks/{webhook['id']}").json()
    assert state["status"] == "active"
    with simulator.state.lock:
        assert simulator.state.webhooks[webhook["id"]].failure_count == 6

    wcapi.put(f"customers/{customers[6]}", {"first_name": "F6"})
    assert simulator.wait_for_webhooks(10)
    assert wcapi.get(f"webhooks/{webhook['id']}").json()["status"] == "disabled"
    assert len(receiver.deliveries()) == 7

    wcapi.put(f"customers/{customers[7]}", {"first_name": "F7"})
    assert simulator.wait_for_webhooks(10)
    assert len(receiver.deliveries()) == 7  # a disabled webhook no longer delivers
    assert simulator.stats()["deliveries"]["webhooks_disabled"] == 1


def test_success_is_200_to_302_and_resets_the_failure_count(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    answers = iter([500, 500, 302, 404])
    receiver.respond = lambda request: 200 if request.is_ping else next(answers)
    webhook = _subscribe(wcapi, "customer.updated", receiver.url)
    counts = []
    for index, customer_id in enumerate(_customer_ids(simulator, 4)):
        wcapi.put(f"customers/{customer_id}", {"first_name": f"G{index}"})
        assert simulator.wait_for_webhooks(10)
        with simulator.state.lock:
            counts.append(simulator.state.webhooks[webhook["id"]].failure_count)
    assert counts == [1, 2, 0, 1]  # redirects are not followed: a 302 counts as delivered


def test_pending_changes_of_one_resource_coalesce(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    simulator.configure_webhooks(delay_seconds=1.0)
    _subscribe(wcapi, "customer.updated", receiver.url)
    customer_id = _customer_ids(simulator, 1)[0]
    for name in ("One", "Two", "Three"):
        assert wcapi.put(f"customers/{customer_id}", {"first_name": name}).status_code == 200
    assert simulator.wait_for_webhooks(10)
    [delivery] = receiver.deliveries()
    assert _body(delivery)["first_name"] == "Three"  # built when sent, from the current state
    assert simulator.stats()["deliveries"]["coalesced"] == 2


def test_ping_failure_does_not_stop_creation(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    receiver.respond = lambda request: 404
    webhook = _subscribe(wcapi, "order.created", receiver.url)
    assert webhook["status"] == "active"
    with simulator.state.lock:
        assert simulator.state.webhooks[webhook["id"]].pending_delivery is True
    assert len(receiver.pings()) == 1


def test_orders_fire_created_then_updated_and_guest_orders_have_customer_zero(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    _subscribe(wcapi, "order.created", receiver.url)
    _subscribe(wcapi, "order.updated", receiver.url)
    customer_id = _customer_ids(simulator, 1)[0]
    email = wcapi.get(f"customers/{customer_id}").json()["email"]
    control = f"{simulator.url}/_simulator"
    order = requests.post(f"{control}/orders", json={"email": email, "total": "30.00"}, timeout=5)
    assert order.status_code == 201
    assert simulator.wait_for_webhooks(10)
    topics = sorted(d.headers["X-Wc-Webhook-Topic"] for d in receiver.deliveries())
    assert topics == ["order.created", "order.updated"]  # checkout, then payment
    body = _body(receiver.deliveries()[0])
    assert body["customer_id"] == 0 and body["billing"]["email"] == email
    assert body["total"] == "30.00" and body["status"] == "processing"
    mine = wcapi.get("orders", params={"customer": customer_id, "per_page": 100}).json()
    assert body["id"] not in [o["id"] for o in mine]  # only the email ties it to the customer


def test_chaos_duplicates_and_redelivery(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    simulator.configure_webhooks(duplicate_rate=1.0, seed=3)
    _subscribe(wcapi, "customer.updated", receiver.url)
    customer_id = _customer_ids(simulator, 1)[0]
    wcapi.put(f"customers/{customer_id}", {"first_name": "Twice"})
    assert simulator.wait_for_webhooks(10)
    assert len(receiver.deliveries()) == 2
    kinds = [r.kind for r in simulator.deliveries() if r.kind != "ping"]
    assert kinds == ["delivery", "duplicate"]

    simulator.configure_webhooks(duplicate_rate=0.0)
    seq = simulator.deliveries()[-1].seq
    control = f"{simulator.url}/_simulator"
    assert requests.post(f"{control}/webhooks/redeliver", json={"seq": seq}, timeout=5).ok
    assert simulator.wait_for_webhooks(10)
    assert len(receiver.deliveries()) == 3
    assert all(_body(d)["id"] == customer_id for d in receiver.deliveries())


def test_pausing_stops_new_deliveries_and_storefront_edits_fire_hooks(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    created = _subscribe(wcapi, "customer.created", receiver.url)
    _subscribe(wcapi, "customer.deleted", receiver.url)
    control = f"{simulator.url}/_simulator"
    shopper = requests.post(
        f"{control}/customers", json={"email": "shopper@example.com"}, timeout=5
    ).json()
    assert simulator.wait_for_webhooks(10)
    assert [_body(d)["email"] for d in receiver.deliveries()] == ["shopper@example.com"]

    paused = wcapi.put(f"webhooks/{created['id']}", {"status": "paused"}).json()
    assert paused["status"] == "paused"
    requests.post(f"{control}/customers", json={"email": "second@example.com"}, timeout=5)
    assert requests.delete(f"{control}/customers/{shopper['id']}", timeout=5).ok
    assert simulator.wait_for_webhooks(10)
    topics = [d.headers["X-Wc-Webhook-Topic"] for d in receiver.deliveries()]
    assert topics == ["customer.created", "customer.deleted"]
