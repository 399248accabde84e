"""Payloads shaped like the WooCommerce REST API docs' samples (wp-api-v3 _customers.md,
_orders.md). The builders are shared by the other WooCommerce tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from patronkit.adapters.woocommerce.mapping import (
    InvalidPayload,
    changed_since,
    changes_from_webhook,
    customer_from_rest,
    order_from_rest,
    remote_id,
)
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.order import FinancialStatus
from patronkit.core.storefront import ChangeKind, RemoteConsent

_CUSTOMER = {
    "id": 25,
    "date_created": "2017-03-21T16:09:28",
    "date_created_gmt": "2017-03-21T19:09:28",
    "date_modified": "2017-03-21T16:09:30",
    "date_modified_gmt": "2017-03-21T19:09:30",
    "email": "john.doe@example.com",
    "first_name": "John",
    "last_name": "Doe",
    "role": "customer",
    "username": "john.doe",
    "billing": {
        "first_name": "John",
        "last_name": "Doe",
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
        "email": "john.doe@example.com",
        "phone": "(555) 555-5555",
    },
    "shipping": {
        "first_name": "John",
        "last_name": "Doe",
        "company": "",
        "address_1": "969 Market",
        "address_2": "",
        "city": "San Francisco",
        "state": "CA",
        "postcode": "94103",
        "country": "US",
    },
    "is_paying_customer": False,
    "avatar_url": "https://secure.gravatar.com/avatar/8eb1b522f60d11fa897de1dc6351b7e8?s=96",
    "meta_data": [],
    "_links": {"self": [{"href": "https://example.com/wp-json/wc/v3/customers/25"}]},
}

_ORDER = {
    "id": 727,
    "parent_id": 0,
    "number": "727",
    "order_key": "wc_order_58d2d042d1d",
    "created_via": "rest-api",
    "version": "3.0.0",
    "status": "processing",
    "currency": "USD",
    "date_created": "2017-03-22T16:28:02",
    "date_created_gmt": "2017-03-22T19:28:02",
    "date_modified": "2017-03-22T16:28:08",
    "date_modified_gmt": "2017-03-22T19:28:08",
    "discount_total": "0.00",
    "shipping_total": "10.00",
    "total": "29.35",
    "total_tax": "1.35",
    "prices_include_tax": False,
    "customer_id": 0,
    "customer_note": "",
    "billing": {
        "first_name": "John",
        "last_name": "Doe",
        "email": "john.doe@example.com",
        "phone": "(555) 555-5555",
    },
    "payment_method": "bacs",
    "transaction_id": "",
    "date_paid": "2017-03-22T16:28:08",
    "date_paid_gmt": "2017-03-22T19:28:08",
    "date_completed": None,
    "date_completed_gmt": None,
    "line_items": [{"id": 315, "name": "Woo Single #1", "product_id": 93, "quantity": 2}],
    "coupon_lines": [],
    "refunds": [],
    "meta_data": [],
}


def customer_payload(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(_CUSTOMER)
    payload.update(changes)
    return payload


def order_payload(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(_ORDER)
    payload.update(changes)
    return payload


def consent_entry(
    channel: str, state: str, at: str, level: str = "single", meta_id: int = 900
) -> dict[str, Any]:
    return {
        "id": meta_id,
        "key": f"patronkit_consent_{channel}",
        "value": {"state": state, "level": level, "updated_at": at, "wording_version": None},
    }


# -- customers ----------------------------------------------------------------------------------


def test_customer_from_the_docs_sample() -> None:
    customer = customer_from_rest(customer_payload())
    assert customer.remote_id == "25"
    assert customer.email == "john.doe@example.com"
    assert customer.phone == "(555) 555-5555"  # billing.phone: accounts have no other
    assert (customer.first_name, customer.last_name) == ("John", "Doe")
    # date_modified_gmt, read as UTC (the field carries no offset).
    assert customer.updated_at == datetime(2017, 3, 21, 19, 9, 30, tzinfo=UTC)
    assert customer.consents == ()  # no patronkit meta: nothing said here
    assert customer.profile_included


def test_customer_consents_come_from_patronkit_meta() -> None:
    meta = [
        {"id": 1, "key": "_last_order", "value": "727"},
        consent_entry("email", "subscribed", "2017-03-21T19:10:00Z", "confirmed"),
    ]
    [consent] = customer_from_rest(customer_payload(meta_data=meta)).consents
    assert consent == RemoteConsent(
        Channel.EMAIL,
        ConsentState.SUBSCRIBED,
        OptInLevel.CONFIRMED,
        datetime(2017, 3, 21, 19, 10, tzinfo=UTC),
    )


def test_customer_names_fall_back_to_billing_and_blank_fields_are_none() -> None:
    customer = customer_from_rest(
        customer_payload(first_name="", last_name="", email="", date_modified_gmt=None)
    )
    assert (customer.first_name, customer.last_name) == ("John", "Doe")
    assert customer.email == "john.doe@example.com"  # billing.email stands in
    assert customer.updated_at == datetime(2017, 3, 21, 19, 9, 28, tzinfo=UTC)  # created


def test_customer_with_empty_addresses_as_php_arrays() -> None:
    customer = customer_from_rest(customer_payload(billing=[], shipping=[]))
    assert customer.phone is None


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"id": 0},
        {"id": True},
        {"id": "abc"},
        {"date_modified_gmt": None, "date_created_gmt": None},
        {"date_modified_gmt": "yesterday"},
        {"billing": "nope"},
        {"email": 12},
    ],
)
def test_malformed_customers_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidPayload):
        customer_from_rest(customer_payload(**changes))


def test_changed_since_looks_at_consent_times_too() -> None:
    modified = datetime(2017, 3, 21, 19, 9, 30, tzinfo=UTC)
    later = datetime(2026, 8, 1, tzinfo=UTC)
    plain = customer_from_rest(customer_payload())
    assert changed_since(plain, modified)
    assert not changed_since(plain, later)
    # A meta-only change that did not bump date_modified (woocommerce#27991).
    meta = [consent_entry("email", "unsubscribed", "2026-08-01T09:00:00Z")]
    with_consent = customer_from_rest(customer_payload(meta_data=meta))
    assert with_consent.updated_at == modified
    assert changed_since(with_consent, datetime(2026, 8, 1, 8, 0, tzinfo=UTC))
    assert not changed_since(with_consent, datetime(2026, 8, 1, 10, 0, tzinfo=UTC))


# -- orders -------------------------------------------------------------------------------------


def test_guest_order_from_the_docs_sample_is_matched_by_email() -> None:
    order = order_from_rest(order_payload())
    assert order.remote_id == "727"
    assert order.customer_remote_id is None  # customer_id 0: a guest
    assert order.email == "john.doe@example.com"
    assert order.total == Decimal("29.35")
    assert order.currency == "USD"
    assert order.financial_status is FinancialStatus.PAID
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.outstanding == 0
    assert (order.fulfilled_at, order.cancelled_at) == (None, None)


def test_a_registered_customers_order_names_them() -> None:
    order = order_from_rest(order_payload(customer_id=25))
    assert (order.customer_remote_id, order.email) == ("25", "john.doe@example.com")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", FinancialStatus.PENDING),
        ("on-hold", FinancialStatus.PENDING),
        ("processing", FinancialStatus.PAID),
        ("completed", FinancialStatus.PAID),
        ("refunded", FinancialStatus.REFUNDED),
        ("cancelled", FinancialStatus.VOIDED),
        ("failed", FinancialStatus.VOIDED),
        ("checkout-draft", FinancialStatus.PENDING),
        ("shipped-by-a-plugin", FinancialStatus.UNKNOWN),
        ("trash", FinancialStatus.UNKNOWN),
    ],
)
def test_status_maps_to_a_financial_status(status: str, expected: FinancialStatus) -> None:
    assert order_from_rest(order_payload(status=status)).financial_status is expected


def test_unpaid_orders_are_outstanding() -> None:
    order = order_from_rest(order_payload(status="on-hold", date_paid_gmt=None))
    assert order.outstanding == Decimal("29.35")
    assert order.paid_at is None


def test_completed_order_is_fulfilled_and_coupons_are_read() -> None:
    order = order_from_rest(
        order_payload(
            status="completed",
            date_completed_gmt="2017-03-25T10:00:00",
            coupon_lines=[{"id": 1, "code": "FRIEND-7QX", "discount": "5.00"}, {"code": " "}],
        )
    )
    assert order.fulfilled_at == datetime(2017, 3, 25, 10, 0, tzinfo=UTC)
    assert order.discount_codes == ("FRIEND-7QX",)


def test_refunds_are_positive_amounts_and_a_partial_refund_says_so() -> None:
    partial = order_from_rest(order_payload(refunds=[{"id": 726, "reason": "", "total": "-10.00"}]))
    assert [r.amount for r in partial.refunds] == [Decimal("10.00")]
    assert partial.refunds[0].created_at == partial.updated_at  # no refund time is given
    assert partial.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    full = order_from_rest(order_payload(refunds=[{"id": 726, "total": "-29.35"}]))
    assert full.financial_status is FinancialStatus.REFUNDED


def test_a_cancelled_order_is_cancelled_when_last_modified() -> None:
    order = order_from_rest(order_payload(status="cancelled"))
    assert order.cancelled_at == order.updated_at


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"total": 29.35},  # floats are not exact
        {"total": "lots"},
        {"total": "-1.00"},
        {"currency": None},
        {"date_created_gmt": None},
        {"customer_id": "x"},
        {"refunds": [{"total": "nope"}]},
    ],
)
def test_malformed_orders_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidPayload):
        order_from_rest(order_payload(**changes))


# -- webhooks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", ["customer.created", "customer.updated"])
def test_customer_topics_are_customer_changes(topic: str) -> None:
    [change] = changes_from_webhook(topic, customer_payload())
    assert change.kind is ChangeKind.CUSTOMER
    assert change.customer is not None and change.customer.remote_id == "25"


def test_customer_deleted_carries_only_the_id() -> None:
    [change] = changes_from_webhook("customer.deleted", {"id": 25})
    assert (change.kind, change.remote_id) == (ChangeKind.CUSTOMER_DELETED, "25")
    with pytest.raises(InvalidPayload):
        changes_from_webhook("customer.deleted", {})


@pytest.mark.parametrize("topic", ["order.created", "order.updated", "order.restored"])
def test_order_topics_are_order_changes(topic: str) -> None:
    [change] = changes_from_webhook(topic, order_payload())
    assert change.kind is ChangeKind.ORDER
    assert change.order is not None and change.order.remote_id == "727"


@pytest.mark.parametrize(
    "topic", ["coupon.created", "coupon.updated", "product.updated", "order.deleted"]
)
def test_other_topics_are_ignored(topic: str) -> None:
    [change] = changes_from_webhook(topic, {"id": 1})
    assert change.kind is ChangeKind.IGNORED


def test_a_non_object_payload_is_refused() -> None:
    with pytest.raises(InvalidPayload):
        changes_from_webhook("customer.updated", [1, 2])  # type: ignore[arg-type]


def test_remote_ids() -> None:
    assert remote_id(25, "customer") == remote_id("25", "customer") == "25"
    for bad in (-1, 0, 2**64, "1e3", "٣", None, 1.0):
        with pytest.raises(InvalidPayload):
            remote_id(bad, "customer")
