"""Fidelity check: the official `woocommerce` Python client works against the simulator."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from woocommerce import API

from patronkit.adapters.woocommerce.simulator import WooCommerceSimulator

from .conftest import Receiver


def _customer_ids(simulator: WooCommerceSimulator) -> set[int]:
    with simulator.state.lock:
        return {c.id for c in simulator.state.customers.values() if c.role == "customer"}


def test_lists_every_customer_across_pages(simulator: WooCommerceSimulator, wcapi: API) -> None:
    first = wcapi.get("customers", params={"per_page": 20})
    assert first.status_code == 200
    assert first.headers["X-WP-Total"] == "45"
    pages = int(first.headers["X-WP-TotalPages"])
    assert pages == 3
    seen = [c["id"] for c in first.json()]
    links = [first.headers.get("Link", "")]
    for page in range(2, pages + 1):
        response = wcapi.get("customers", params={"per_page": 20, "page": page})
        assert response.status_code == 200
        seen.extend(c["id"] for c in response.json())
        links.append(response.headers.get("Link", ""))
    assert len(seen) == len(set(seen)) == 45
    assert set(seen) == _customer_ids(simulator)  # the admin (role administrator) is not in it
    assert 'rel="next"' in links[0] and 'rel="prev"' not in links[0]
    assert 'rel="prev"' in links[1] and 'rel="next"' in links[1]
    assert 'rel="prev"' in links[2] and 'rel="next"' not in links[2]
    assert not any("first" in link or "last" in link for link in links)
    # default order: display name, ascending
    names = [c["username"].lower() for c in first.json()]
    assert names == sorted(names)


def test_customer_shape_and_dates_without_zone(simulator: WooCommerceSimulator, wcapi: API) -> None:
    customer = wcapi.get("customers", params={"per_page": 1}).json()[0]
    for key in (
        "id", "date_created", "date_created_gmt", "date_modified", "date_modified_gmt", "email",
        "first_name", "last_name", "role", "username", "billing", "shipping",
        "is_paying_customer", "avatar_url", "meta_data",
    ):  # fmt: skip
        assert key in customer
    assert {"email", "phone"} <= set(customer["billing"])
    created_local = datetime.fromisoformat(customer["date_created"])
    created_gmt = datetime.fromisoformat(customer["date_created_gmt"])
    assert created_local.tzinfo is None and created_gmt.tzinfo is None
    # the non-_gmt field is site-local wall time (Europe/Berlin here), not UTC
    expected_local = created_gmt.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert created_local == expected_local.replace(tzinfo=None)
    assert created_local != created_gmt


def test_customer_filters_and_ordering(simulator: WooCommerceSimulator, wcapi: API) -> None:
    everyone = wcapi.get("customers", params={"per_page": 100, "orderby": "id"}).json()
    ids = [c["id"] for c in everyone]
    assert ids == sorted(ids)
    target = everyone[3]
    by_email = wcapi.get("customers", params={"email": target["email"].upper()}).json()
    assert [c["id"] for c in by_email] == [target["id"]]
    local_part = target["email"].split("@")[0]
    assert target["id"] in [
        c["id"] for c in wcapi.get("customers", params={"search": local_part}).json()
    ]
    newest = wcapi.get(
        "customers", params={"orderby": "registered_date", "order": "desc", "per_page": 100}
    ).json()
    created = [c["date_created_gmt"] for c in newest]
    assert created == sorted(created, reverse=True)
    with_admin = wcapi.get("customers", params={"role": "all", "per_page": 100})
    assert with_admin.headers["X-WP-Total"] == "46"
    assert "administrator" in [c["role"] for c in with_admin.json()]
    bad = wcapi.get("customers", params={"orderby": "modified"})
    assert bad.status_code == 400 and bad.json()["data"]["params"]["orderby"]


def test_customers_have_no_modified_after_filter(wcapi: API) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = wcapi.get("customers", params={"modified_after": future, "per_page": 5})
    assert response.status_code == 200
    assert response.headers["X-WP-Total"] == "45"  # ignored, like any unknown parameter


def test_updates_customer_meta_without_bumping_date_modified(
    simulator: WooCommerceSimulator, wcapi: API
) -> None:
    customer = wcapi.get("customers", params={"per_page": 1}).json()[0]
    value = {
        "state": "subscribed",
        "level": "confirmed",
        "updated_at": "2025-07-01T10:00:00Z",
        "wording_version": 2,
    }
    response = wcapi.put(
        f"customers/{customer['id']}",
        {"meta_data": [{"key": "patronkit_consent_email", "value": value}]},
    )
    assert response.status_code == 200
    updated = response.json()
    meta = {m["key"]: m for m in updated["meta_data"]}
    assert meta["patronkit_consent_email"]["value"] == value
    assert isinstance(meta["patronkit_consent_email"]["id"], int)
    # woocommerce#27991: a meta-only update leaves date_modified where it was
    assert updated["date_modified_gmt"] == customer["date_modified_gmt"]
    assert updated["date_modified"] == customer["date_modified"]
    assert simulator.consent_of(customer["id"])["email"] == value

    # a real field change does move it
    renamed = wcapi.put(f"customers/{customer['id']}", {"first_name": "Renamed"}).json()
    assert renamed["date_modified_gmt"] != customer["date_modified_gmt"]
    assert renamed["first_name"] == "Renamed"


def test_meta_without_id_replaces_the_first_entry_with_that_key(wcapi: API) -> None:
    customer_id = wcapi.get("customers", params={"per_page": 1}).json()[0]["id"]
    for state in ("pending", "subscribed"):
        body = {"meta_data": [{"key": "patronkit_consent_sms", "value": {"state": state}}]}
        assert wcapi.put(f"customers/{customer_id}", body).status_code == 200
    meta = wcapi.get(f"customers/{customer_id}").json()["meta_data"]
    sms = [m for m in meta if m["key"] == "patronkit_consent_sms"]
    assert len(sms) == 1 and sms[0]["value"] == {"state": "subscribed"}


def test_orders_modified_after(simulator: WooCommerceSimulator, wcapi: API) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    customer_id = min(_customer_ids(simulator))
    created = wcapi.post(
        "orders",
        {
            "customer_id": customer_id,
            "set_paid": True,
            "line_items": [{"name": "Hoodie", "quantity": 2, "subtotal": "90.00"}],
        },
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "processing" and order["total"] == "90.00"
    assert order["date_paid_gmt"] is not None and order["customer_id"] == customer_id

    since = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = wcapi.get("orders", params={"modified_after": since})
    assert recent.status_code == 200
    assert [o["id"] for o in recent.json()] == [order["id"]]
    assert wcapi.get("orders").headers["X-WP-Total"] == "31"

    # a zone-less value with dates_are_gmt=true is read as GMT
    gmt_wall = before.strftime("%Y-%m-%dT%H:%M:%S")
    same = wcapi.get("orders", params={"modified_after": gmt_wall, "dates_are_gmt": "true"})
    assert [o["id"] for o in same.json()] == [order["id"]]
    # ... but a value with a zone is converted to site time first, even for the GMT column
    # (WP_Date_Query), so with the site at UTC+1/+2 this window misses the new order
    shifted = (datetime.now(UTC) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    missed = wcapi.get("orders", params={"modified_after": shifted, "dates_are_gmt": "true"})
    assert missed.json() == []

    bad = wcapi.get("orders", params={"modified_after": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_creates_a_webhook_and_receives_the_ping(
    simulator: WooCommerceSimulator, wcapi: API, receiver: Receiver
) -> None:
    response = wcapi.post(
        "webhooks",
        {
            "name": "patronkit customers",
            "topic": "customer.updated",
            "delivery_url": receiver.url,
            "secret": "s3cret",
        },
    )
    assert response.status_code == 201, response.text
    webhook = response.json()
    assert webhook["status"] == "active" and webhook["secret"] == "s3cret"
    assert webhook["resource"] == "customer" and webhook["event"] == "updated"
    assert webhook["hooks"] == ["profile_update", "woocommerce_update_customer"]
    # the ping went out before the 201 came back
    pings = receiver.pings()
    assert len(pings) == 1
    assert pings[0].body == f"webhook_id={webhook['id']}".encode()
    assert pings[0].headers["User-Agent"].startswith("WooCommerce/")
    assert "Hookshot (WordPress/" in pings[0].headers["User-Agent"]
    assert not any(h.lower().startswith("x-wc-") for h in pings[0].headers)

    fetched = wcapi.get(f"webhooks/{webhook['id']}").json()
    assert "secret" not in fetched  # the secret is shown in the edit context only
    listed = wcapi.get("webhooks", params={"status": "active"})
    assert [w["id"] for w in listed.json()] == [webhook["id"]]
    assert wcapi.delete(f"webhooks/{webhook['id']}").status_code == 501  # no trash
    assert wcapi.delete(f"webhooks/{webhook['id']}", params={"force": True}).status_code == 200
    assert wcapi.get("webhooks").json() == []


def test_coupons_modified_after_misses_amount_changes(wcapi: API) -> None:
    created = wcapi.post(
        "coupons", {"code": "WELCOME10", "discount_type": "percent", "amount": "10"}
    )
    assert created.status_code == 201, created.text
    coupon = created.json()
    assert coupon["code"] == "welcome10" and coupon["amount"] == "10.00"
    duplicate = wcapi.post("coupons", {"code": "welcome10"})
    assert duplicate.json()["code"] == "woocommerce_rest_coupon_code_already_exists"

    time.sleep(1.1)
    changed = wcapi.put(f"coupons/{coupon['id']}", {"amount": "15"}).json()
    assert changed["amount"] == "15.00"
    # only code, description and dates rewrite the coupon post (woocommerce#23987)
    assert changed["date_modified_gmt"] == coupon["date_modified_gmt"]
    described = wcapi.put(f"coupons/{coupon['id']}", {"description": "10% off"}).json()
    assert described["date_modified_gmt"] > coupon["date_modified_gmt"]

    found = wcapi.get("coupons", params={"code": "WELCOME10"}).json()
    assert [c["id"] for c in found] == [coupon["id"]]
    assert wcapi.delete(f"coupons/{coupon['id']}").json()["status"] == "trash"
    assert wcapi.get("coupons").json() == []


def test_index_and_system_status(simulator: WooCommerceSimulator, wcapi: API) -> None:
    assert requests.get(f"{simulator.url}/wp-json/", timeout=5).json()["namespaces"]
    assert requests.get(simulator.rest_url, timeout=5).json()["namespace"] == "wc/v3"
    status = wcapi.get("system_status")
    assert status.status_code == 200
    assert status.json()["environment"]["home_url"] == simulator.url
    anonymous = requests.get(f"{simulator.rest_url}/system_status", timeout=5)
    assert anonymous.status_code == 401
