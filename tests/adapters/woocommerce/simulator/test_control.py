"""The control API: storefront actions, consent meta, faults, counters, seeding, reset."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from click.testing import CliRunner
from woocommerce import API

from patronkit.adapters.simulation import RACE_ALLOWANCE_SECONDS
from patronkit.adapters.woocommerce.simulator import (
    WooCommerceSimulator,
    cli,
    running_simulator,
)

from .conftest import Receiver


def _control(simulator: WooCommerceSimulator) -> str:
    return f"{simulator.url}/_simulator"


def _first_customer(simulator: WooCommerceSimulator) -> int:
    with simulator.state.lock:
        return min(c.id for c in simulator.state.customers.values() if c.role == "customer")


def test_set_consent_writes_meta_without_bumping_date_modified(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    wcapi.post("webhooks", {"topic": "customer.updated", "delivery_url": receiver.url})
    customer_id = _first_customer(simulator)
    before = wcapi.get(f"customers/{customer_id}").json()
    response = requests.post(
        f"{_control(simulator)}/customers/{customer_id}/consent",
        json={
            "channel": "sms",
            "state": "unsubscribed",
            "level": "single",
            "updated_at": "2025-08-01T09:30:00+02:00",
            "wording_version": 4,
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    expected = {
        "state": "unsubscribed",
        "level": "single",
        "updated_at": "2025-08-01T07:30:00Z",
        "wording_version": 4,
    }
    assert simulator.consent_of(customer_id) == {
        "email": None,
        "sms": expected,
        "whatsapp": None,
        "postal": None,
    }
    after = wcapi.get(f"customers/{customer_id}").json()
    assert {"key": "patronkit_consent_sms", "value": expected} in [
        {"key": m["key"], "value": m["value"]} for m in after["meta_data"]
    ]
    assert after["date_modified_gmt"] == before["date_modified_gmt"]
    # saved through WC_Customer: customer.updated fires, carrying the meta
    assert simulator.wait_for_webhooks(10)
    [delivery] = receiver.deliveries()
    meta = json.loads(delivery.body)["meta_data"]
    assert any(m["key"] == "patronkit_consent_sms" for m in meta)

    # a plain update_user_meta() fires nothing at all
    requests.post(
        f"{_control(simulator)}/customers/{customer_id}/consent",
        json={"channel": "email", "state": "subscribed", "via": "update_user_meta"},
        timeout=5,
    )
    assert simulator.wait_for_webhooks(10)
    assert len(receiver.deliveries()) == 1
    assert simulator.consent_of(customer_id)["email"]["state"] == "subscribed"
    read_back = requests.get(f"{_control(simulator)}/customers/{customer_id}/consent", timeout=5)
    assert read_back.json()["sms"] == expected


def test_consent_values_are_validated(simulator: WooCommerceSimulator) -> None:
    customer_id = _first_customer(simulator)
    url = f"{_control(simulator)}/customers/{customer_id}/consent"
    for body in (
        {"state": "yes"},
        {"state": "subscribed", "level": "double"},
        {"state": "subscribed", "channel": "fax"},
        {"state": "subscribed", "updated_at": "2025-08-01T09:30:00"},
    ):
        assert requests.post(url, json=body, timeout=5).status_code == 400, body


def test_faults_retry_after_and_counters(simulator: WooCommerceSimulator, wcapi: API) -> None:
    control = _control(simulator)
    requests.post(f"{control}/faults", json={"status": 429, "retry_after": 5}, timeout=5)
    requests.post(f"{control}/faults", json={"status": 503, "count": 2}, timeout=5)
    limited = wcapi.get("customers")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "5"
    assert limited.headers["Content-Type"].startswith("text/html")  # the host's page, not WP
    time.sleep(2 * RACE_ALLOWANCE_SECONDS)  # later than any request already on its way
    assert [wcapi.get("customers").status_code for _ in range(3)] == [503, 503, 200]
    stats = requests.get(f"{control}/stats", timeout=5).json()
    assert stats["api"]["faults_served"] == {"429": 1, "503": 2}
    assert stats["api"]["violations"]["retry_after_ignored"] == 3
    assert stats["api"]["rest_requests"] == 4
    assert stats["customers"] == 45


def test_batch_limit_and_per_item_errors(simulator: WooCommerceSimulator, wcapi: API) -> None:
    too_many = {"delete": list(range(1000, 1101))}
    response = wcapi.post("customers/batch", too_many)
    assert response.status_code == 413
    assert response.json()["code"] == "woocommerce_rest_request_entity_too_large"

    existing = _first_customer(simulator)
    result: dict[str, Any] = wcapi.post(
        "customers/batch",
        {
            "create": [{"email": "batch.one@example.com"}, {"email": "not-an-email"}],
            "update": [{"id": existing, "last_name": "Batched"}, {"id": 999999}],
            "delete": [999998],
        },
    ).json()
    assert result["create"][0]["email"] == "batch.one@example.com"
    assert result["create"][1]["error"]["code"] == "registration-error-invalid-email"
    assert result["update"][0]["last_name"] == "Batched"
    assert result["update"][1]["id"] == 999999 and "error" in result["update"][1]
    assert result["delete"][0]["error"]["data"]["status"] == 404


def test_refund_and_order_dates(simulator: WooCommerceSimulator, wcapi: API) -> None:
    control = _control(simulator)
    customer_id = _first_customer(simulator)
    order = requests.post(
        f"{control}/orders", json={"customer_id": customer_id, "total": "40.00"}, timeout=5
    ).json()
    assert order["customer_id"] == customer_id and order["date_paid_gmt"]
    assert requests.post(
        f"{control}/orders/{order['id']}/status", json={"status": "completed"}, timeout=5
    ).ok
    refunded = requests.post(
        f"{control}/orders/{order['id']}/refunds",
        json={"amount": "15", "reason": "damaged"},
        timeout=5,
    ).json()
    assert refunded["refunds"][0]["total"] == "-15.00"
    assert refunded["status"] == "completed"
    fetched = wcapi.get(f"orders/{order['id']}").json()
    assert fetched["date_completed_gmt"] is not None and fetched["refunds"] == refunded["refunds"]
    assert wcapi.get(f"customers/{customer_id}").json()["is_paying_customer"] is True


def test_seeding_is_deterministic_and_reset_forgets_everything() -> None:
    def snapshot(sim: WooCommerceSimulator) -> list[tuple[Any, ...]]:
        with sim.state.lock:
            customers = [
                (c.id, c.email, c.date_created, c.last_update, c.billing["phone"])
                for c in sim.state.customers.values()
            ]
            orders = [
                (o.id, o.customer_id, o.billing["email"], o.status, o.total, o.date_modified)
                for o in sim.state.orders.values()
            ]
        return customers + orders

    with running_simulator(customers=20, orders=15, seed=11) as one:
        with running_simulator(customers=20, orders=15, seed=11) as two:
            assert snapshot(one) == snapshot(two)
        with running_simulator(customers=20, orders=15, seed=12) as other:
            assert snapshot(one) != snapshot(other)
        with one.state.lock:
            assert any(c.last_update is None for c in one.state.customers.values())
            assert any(o.customer_id == 0 for o in one.state.orders.values())

        one.create_api_key()
        control = _control(one)
        assert requests.post(f"{control}/reset", json={"customers": 3}, timeout=5).ok
        with one.state.lock:
            assert one.state.api_keys == {} and one.state.orders == {}
            assert sum(c.role == "customer" for c in one.state.customers.values()) == 3


def test_command_prints_where_it_listens(monkeypatch: Any) -> None:
    def serve_once(self: WooCommerceSimulator) -> None:
        self.store.close()
        self.bind().server_close()

    monkeypatch.setattr(WooCommerceSimulator, "serve_forever", serve_once)
    result = CliRunner().invoke(cli.command, ["--port", "0", "--customers", "3"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:" in result.output and "/wp-json/wc/v3" in result.output
    assert "ck_" not in result.output  # no credentials on the console
    assert cli.command.name == "woocommerce"
