"""Shopify payloads and nodes ↔ core records (pure functions)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from patronkit.adapters.shopify import mapping
from patronkit.adapters.shopify.mapping import InvalidPayload
from patronkit.adapters.shopify.webhooks import COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.order import FinancialStatus
from patronkit.core.storefront import ChangeKind, ConsentPush, RemoteConsent

CUSTOMER_ID = 7400000000123
ORDER_ID = 5600000000042
T0 = "2026-03-01T10:00:00-05:00"
T0_UTC = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def customer_payload() -> dict[str, Any]:
    return {
        "id": CUSTOMER_ID,
        "email": "ana@example.com",
        "created_at": "2026-01-01T09:00:00-05:00",
        "updated_at": T0,
        "first_name": "Ana",
        "last_name": "Lopez",
        "phone": "+14155550101",
        "state": "disabled",
        "admin_graphql_api_id": f"gid://shopify/Customer/{CUSTOMER_ID}",
    }


def order_payload() -> dict[str, Any]:
    return {
        "id": ORDER_ID,
        "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}",
        "email": "ana@example.com",
        "created_at": "2026-03-01T10:00:00-05:00",
        "updated_at": "2026-03-05T10:00:00-05:00",
        "processed_at": "2026-03-01T10:00:05-05:00",
        "cancelled_at": None,
        "currency": "USD",
        "total_price": "129.90",
        "total_outstanding": "0.00",
        "financial_status": "partially_refunded",
        "discount_codes": [{"code": "WELCOME10", "amount": "10.00", "type": "fixed_amount"}],
        "customer": {"id": CUSTOMER_ID, "email": "ana@example.com"},
        "fulfillments": [
            {
                "status": "success",
                "created_at": "2026-03-02T10:00:00-05:00",
                "updated_at": "2026-03-04T10:00:00-05:00",
                "shipment_status": "delivered",
            }
        ],
        "refunds": [
            {
                "id": 1,
                "order_id": ORDER_ID,
                "created_at": "2026-03-05T10:00:00-05:00",
                "transactions": [
                    {"kind": "refund", "status": "success", "amount": "29.90"},
                    {"kind": "refund", "status": "failure", "amount": "99.00"},
                ],
            }
        ],
    }


def email_consent_payload(
    state: str = "subscribed", level: str | None = "single_opt_in", at: str | None = T0
) -> dict[str, Any]:
    return {
        "customer_id": CUSTOMER_ID,
        "email_address": "ana@example.com",
        "email_marketing_consent": {
            "state": state,
            "opt_in_level": level,
            "consent_updated_at": at,
        },
    }


def sms_consent_payload(state: str = "subscribed", at: str | None = T0) -> dict[str, Any]:
    return {
        "id": CUSTOMER_ID,
        "phone": "+14155550101",
        "sms_marketing_consent": {
            "state": state,
            "opt_in_level": "confirmed_opt_in",
            "consent_updated_at": at,
            "consent_collected_from": "OTHER",
        },
    }


PAYLOADS: dict[str, dict[str, Any]] = {
    "customers/create": customer_payload(),
    "customers/update": customer_payload(),
    "customers/delete": {"id": CUSTOMER_ID, "phone": None, "addresses": []},
    "customers_email_marketing_consent/update": email_consent_payload(),
    "customers_marketing_consent/update": sms_consent_payload(),
    "orders/create": order_payload(),
    "orders/updated": order_payload(),
    "orders/paid": order_payload(),
    "orders/fulfilled": order_payload(),
    "refunds/create": order_payload()["refunds"][0],
    "app/uninstalled": {"id": 60000000001, "domain": "x.myshopify.com", "name": "X"},
    "customers/data_request": {
        "shop_id": 60000000001,
        "shop_domain": "x.myshopify.com",
        "orders_requested": [ORDER_ID],
        "customer": {"id": CUSTOMER_ID, "email": "ana@example.com", "phone": None},
        "data_request": {"id": 9999},
    },
    "customers/redact": {
        "shop_id": 60000000001,
        "shop_domain": "x.myshopify.com",
        "customer": {"id": CUSTOMER_ID, "email": "ana@example.com", "phone": None},
        "orders_to_redact": [ORDER_ID],
    },
    "shop/redact": {"shop_id": 60000000001, "shop_domain": "x.myshopify.com"},
}
EXPECTED_KIND = {
    "customers/create": ChangeKind.CUSTOMER,
    "customers/update": ChangeKind.CUSTOMER,
    "customers/delete": ChangeKind.CUSTOMER_DELETED,
    "customers_email_marketing_consent/update": ChangeKind.CUSTOMER,
    "customers_marketing_consent/update": ChangeKind.CUSTOMER,
    "orders/create": ChangeKind.ORDER,
    "orders/updated": ChangeKind.ORDER,
    "orders/paid": ChangeKind.ORDER,
    "orders/fulfilled": ChangeKind.ORDER,
    "refunds/create": ChangeKind.IGNORED,
    "app/uninstalled": ChangeKind.UNINSTALLED,
    "customers/data_request": ChangeKind.DATA_REQUEST,
    "customers/redact": ChangeKind.REDACT_CUSTOMER,
    "shop/redact": ChangeKind.REDACT_SHOP,
}


def test_every_topic_has_a_fixture() -> None:
    assert set(PAYLOADS) == set(SUBSCRIBED_TOPICS) | set(COMPLIANCE_TOPICS)


@pytest.mark.parametrize("topic", sorted(PAYLOADS))
def test_every_topic_maps_to_its_kind(topic: str) -> None:
    changes = mapping.changes_from_webhook(topic, PAYLOADS[topic])
    assert [c.kind for c in changes] == [EXPECTED_KIND[topic]]


# -- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [CUSTOMER_ID, str(CUSTOMER_ID), f"gid://shopify/Customer/{CUSTOMER_ID}", f" {CUSTOMER_ID} "],
)
def test_ids_have_one_canonical_form(value: object) -> None:
    assert mapping.remote_id(value) == str(CUSTOMER_ID)
    assert mapping.to_gid(mapping.remote_id(value)) == f"gid://shopify/Customer/{CUSTOMER_ID}"


@pytest.mark.parametrize(
    "value", [None, True, "", "abc", "0", "-5", 1.5, "gid://shopify/Order/1", "gid://x/Customer/1"]
)
def test_bad_ids_are_refused(value: object) -> None:
    with pytest.raises(InvalidPayload):
        mapping.remote_id(value, "Customer")


# -- customers -------------------------------------------------------------------------------


def test_customer_webhook_is_a_profile_without_consent() -> None:
    (change,) = mapping.changes_from_webhook("customers/update", customer_payload())
    customer = change.customer
    assert customer is not None
    assert customer.remote_id == str(CUSTOMER_ID)
    assert customer.updated_at == T0_UTC
    assert customer.updated_at.tzinfo is not None
    assert (customer.email, customer.phone) == ("ana@example.com", "+14155550101")
    assert (customer.first_name, customer.last_name) == ("Ana", "Lopez")
    assert customer.consents == ()
    assert customer.profile_included is True


def test_customer_delete() -> None:
    (change,) = mapping.changes_from_webhook("customers/delete", PAYLOADS["customers/delete"])
    assert change.remote_id == str(CUSTOMER_ID)


@pytest.mark.parametrize(
    ("state", "level", "expected_state", "expected_level"),
    [
        ("subscribed", "single_opt_in", ConsentState.SUBSCRIBED, OptInLevel.SINGLE),
        ("SUBSCRIBED", "SINGLE_OPT_IN", ConsentState.SUBSCRIBED, OptInLevel.SINGLE),
        ("unsubscribed", "confirmed_opt_in", ConsentState.UNSUBSCRIBED, OptInLevel.CONFIRMED),
        ("pending", "CONFIRMED_OPT_IN", ConsentState.PENDING, OptInLevel.CONFIRMED),
        ("not_subscribed", "unknown", ConsentState.NOT_SUBSCRIBED, OptInLevel.UNKNOWN),
        ("redacted", None, ConsentState.UNSUBSCRIBED, OptInLevel.UNKNOWN),
        ("REDACTED", "single_opt_in", ConsentState.UNSUBSCRIBED, OptInLevel.SINGLE),
    ],
)
def test_email_consent_webhook_in_either_casing(
    state: str, level: str | None, expected_state: ConsentState, expected_level: OptInLevel
) -> None:
    (change,) = mapping.changes_from_webhook(
        "customers_email_marketing_consent/update", email_consent_payload(state, level)
    )
    assert change.kind is ChangeKind.CUSTOMER
    customer = change.customer
    assert customer is not None
    assert customer.profile_included is False
    assert customer.email == "ana@example.com"
    assert customer.consents == (
        RemoteConsent(Channel.EMAIL, expected_state, expected_level, T0_UTC),
    )


def test_sms_consent_webhook() -> None:
    (change,) = mapping.changes_from_webhook(
        "customers_marketing_consent/update", sms_consent_payload("unsubscribed")
    )
    customer = change.customer
    assert customer is not None
    assert customer.profile_included is False
    assert customer.phone == "+14155550101"
    assert customer.consents == (
        RemoteConsent(Channel.SMS, ConsentState.UNSUBSCRIBED, OptInLevel.CONFIRMED, T0_UTC),
    )


def test_invalid_email_state_says_nothing_about_consent() -> None:
    (change,) = mapping.changes_from_webhook(
        "customers_email_marketing_consent/update", email_consent_payload("invalid")
    )
    assert change.kind is ChangeKind.IGNORED
    assert change.remote_id == str(CUSTOMER_ID)


def test_untouched_default_without_timestamp_is_not_a_fact() -> None:
    (change,) = mapping.changes_from_webhook(
        "customers_email_marketing_consent/update",
        email_consent_payload("not_subscribed", "single_opt_in", None),
    )
    assert change.kind is ChangeKind.IGNORED


def test_explicit_state_without_timestamp_in_a_webhook_is_refused() -> None:
    with pytest.raises(InvalidPayload, match="no timestamp"):
        mapping.changes_from_webhook(
            "customers_email_marketing_consent/update",
            email_consent_payload("subscribed", "single_opt_in", None),
        )


def graphql_customer(**overrides: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": f"gid://shopify/Customer/{CUSTOMER_ID}",
        "email": "ana@example.com",
        "phone": "+14155550101",
        "firstName": "Ana",
        "lastName": "Lopez",
        "createdAt": "2026-01-01T14:00:00Z",
        "updatedAt": "2026-03-01T15:00:00Z",
        "emailMarketingConsent": {
            "marketingState": "SUBSCRIBED",
            "marketingOptInLevel": "CONFIRMED_OPT_IN",
            "consentUpdatedAt": "2026-02-01T00:00:00Z",
        },
        "smsMarketingConsent": {
            "marketingState": "UNSUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": None,
            "consentCollectedFrom": "SHOPIFY",
        },
    }
    node.update(overrides)
    return node


def test_graphql_customer_with_both_consents() -> None:
    customer = mapping.customer_from_graphql(graphql_customer())
    assert customer.remote_id == str(CUSTOMER_ID)
    assert customer.updated_at == T0_UTC
    assert customer.profile_included is True
    email, sms = customer.consents
    assert email == RemoteConsent(
        Channel.EMAIL,
        ConsentState.SUBSCRIBED,
        OptInLevel.CONFIRMED,
        datetime(2026, 2, 1, tzinfo=UTC),
    )
    # An explicit state without a timestamp falls back to the customer's updated_at.
    assert sms == RemoteConsent(Channel.SMS, ConsentState.UNSUBSCRIBED, OptInLevel.SINGLE, T0_UTC)


def test_graphql_customer_default_consent_and_missing_channels_are_left_out() -> None:
    node = graphql_customer(
        emailMarketingConsent={
            "marketingState": "NOT_SUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "consentUpdatedAt": None,
        },
        smsMarketingConsent=None,
        phone=None,
    )
    customer = mapping.customer_from_graphql(node)
    assert customer.consents == ()
    assert customer.phone is None


def test_graphql_customer_reads_the_2025_04_default_address_fields() -> None:
    node = graphql_customer(
        defaultEmailAddress={
            "emailAddress": "new@example.com",
            "marketingState": "UNSUBSCRIBED",
            "marketingOptInLevel": "SINGLE_OPT_IN",
            "marketingUpdatedAt": "2026-02-20T00:00:00Z",
        },
        defaultPhoneNumber={"phoneNumber": "+14155550199"},
    )
    customer = mapping.customer_from_graphql(node)
    assert customer.email == "new@example.com"
    assert customer.phone == "+14155550199"
    assert customer.consents[0] == RemoteConsent(
        Channel.EMAIL,
        ConsentState.UNSUBSCRIBED,
        OptInLevel.SINGLE,
        datetime(2026, 2, 20, tzinfo=UTC),
    )


# -- orders ----------------------------------------------------------------------------------


def test_order_webhook() -> None:
    (change,) = mapping.changes_from_webhook("orders/updated", order_payload())
    order = change.order
    assert order is not None
    assert order.remote_id == str(ORDER_ID)
    assert order.total == Decimal("129.90")
    assert order.outstanding == Decimal("0.00")
    assert order.currency == "USD"
    assert order.financial_status is FinancialStatus.PARTIALLY_REFUNDED
    assert order.customer_remote_id == str(CUSTOMER_ID)
    assert order.discount_codes == ("WELCOME10",)
    assert [(r.amount, r.created_at) for r in order.refunds] == [
        (Decimal("29.90"), datetime(2026, 3, 5, 15, tzinfo=UTC))
    ]
    assert order.placed_at == datetime(2026, 3, 1, 15, 0, 5, tzinfo=UTC)
    assert order.fulfilled_at == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert order.delivered_at == datetime(2026, 3, 4, 15, tzinfo=UTC)
    assert order.cancelled_at is None


def test_guest_order_and_unlisted_order_topic() -> None:
    payload = order_payload()
    payload["customer"] = None
    (change,) = mapping.changes_from_webhook("orders/cancelled", payload)
    assert change.kind is ChangeKind.ORDER
    assert change.order is not None
    assert change.order.customer_remote_id is None


def graphql_order() -> dict[str, Any]:
    def money(amount: str) -> dict[str, Any]:
        return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}

    return {
        "id": f"gid://shopify/Order/{ORDER_ID}",
        "name": "#1001",
        "email": None,
        "customer": {"id": f"gid://shopify/Customer/{CUSTOMER_ID}"},
        "createdAt": "2026-03-01T15:00:00Z",
        "updatedAt": "2026-03-02T15:00:00Z",
        "processedAt": "2026-03-01T15:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED",
        "totalPriceSet": money("25.0"),
        "currentTotalPriceSet": money("25.0"),
        "totalOutstandingSet": money("0.0"),
        "discountCodes": [],
        "fulfillments": [
            {"createdAt": "2026-03-02T15:00:00Z", "deliveredAt": None, "status": "SUCCESS"},
            {"createdAt": "2026-03-01T16:00:00Z", "deliveredAt": None, "status": "CANCELLED"},
        ],
        "refunds": [],
    }


def test_graphql_order() -> None:
    order = mapping.order_from_graphql(graphql_order())
    assert order.remote_id == str(ORDER_ID)
    assert order.total == Decimal("25.0")
    assert order.currency == "EUR"
    assert order.financial_status is FinancialStatus.PAID
    assert order.customer_remote_id == str(CUSTOMER_ID)
    assert order.email is None
    assert order.fulfilled_at == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert order.delivered_at is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PAID", FinancialStatus.PAID),
        ("partially_paid", FinancialStatus.PARTIALLY_PAID),
        ("EXPIRED", FinancialStatus.VOIDED),
        ("something_new", FinancialStatus.UNKNOWN),
        (None, FinancialStatus.UNKNOWN),
    ],
)
def test_financial_status(value: str | None, expected: FinancialStatus) -> None:
    assert mapping.financial_status(value) is expected


# -- app and privacy -------------------------------------------------------------------------


def test_privacy_topics_carry_subject_and_reference() -> None:
    (request,) = mapping.changes_from_webhook(
        "customers/data_request", PAYLOADS["customers/data_request"]
    )
    assert (request.remote_id, request.email, request.reference) == (
        str(CUSTOMER_ID),
        "ana@example.com",
        "9999",
    )
    (redact,) = mapping.changes_from_webhook("customers/redact", PAYLOADS["customers/redact"])
    assert (redact.remote_id, redact.email, redact.reference) == (
        str(CUSTOMER_ID),
        "ana@example.com",
        None,
    )
    (shop,) = mapping.changes_from_webhook("shop/redact", PAYLOADS["shop/redact"])
    assert shop.remote_id == "60000000001"
    (gone,) = mapping.changes_from_webhook("app/uninstalled", PAYLOADS["app/uninstalled"])
    assert gone.remote_id == "60000000001"


def test_refund_names_its_order_for_a_later_refetch() -> None:
    (change,) = mapping.changes_from_webhook("refunds/create", PAYLOADS["refunds/create"])
    assert change.remote_id == str(ORDER_ID)
    assert "orders/updated" in change.note


def test_unknown_topic_is_ignored() -> None:
    (change,) = mapping.changes_from_webhook("products/update", {"id": 1})
    assert change.kind is ChangeKind.IGNORED


# -- bad payloads ----------------------------------------------------------------------------


def _without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(payload)
    target = broken
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return broken


BAD_PAYLOADS = [
    ("customers/update", _without(customer_payload(), "id")),
    ("customers/update", _without(customer_payload(), "updated_at")),
    ("customers/update", {**customer_payload(), "updated_at": "2026-03-01T10:00:00"}),  # naive
    ("customers/update", {**customer_payload(), "updated_at": "yesterday"}),
    ("customers/update", {**customer_payload(), "email": 42}),
    ("customers/delete", {}),
    ("customers_email_marketing_consent/update", _without(email_consent_payload(), "customer_id")),
    (
        "customers_email_marketing_consent/update",
        _without(email_consent_payload(), "email_marketing_consent"),
    ),
    ("customers_email_marketing_consent/update", email_consent_payload(state="maybe")),
    ("customers_email_marketing_consent/update", email_consent_payload(level="triple_opt_in")),
    (
        "customers_marketing_consent/update",
        {**sms_consent_payload(), "sms_marketing_consent": "yes"},
    ),
    ("orders/create", _without(order_payload(), "total_price")),
    ("orders/create", {**order_payload(), "total_price": 12.5}),  # a float is not exact
    ("orders/create", {**order_payload(), "total_price": "-1"}),
    ("orders/create", {**order_payload(), "total_price": "NaN"}),
    ("orders/create", {**order_payload(), "customer": "ana"}),
    ("refunds/create", {"id": 1}),
    ("customers/redact", {"shop_id": 1, "customer": {}}),
    ("shop/redact", {"shop_domain": "x.myshopify.com"}),
]


@pytest.mark.parametrize(("topic", "payload"), BAD_PAYLOADS)
def test_bad_payloads_raise_a_value_error(topic: str, payload: Any) -> None:
    with pytest.raises(InvalidPayload):
        mapping.changes_from_webhook(topic, payload)
    assert issubclass(InvalidPayload, ValueError)


def test_a_non_object_payload_is_refused() -> None:
    with pytest.raises(InvalidPayload):
        mapping.changes_from_webhook("customers/update", [1, 2])  # type: ignore[arg-type]


def test_bad_graphql_nodes_are_refused() -> None:
    with pytest.raises(InvalidPayload):
        mapping.customer_from_graphql(graphql_customer(id="gid://shopify/Order/1"))
    with pytest.raises(InvalidPayload):
        mapping.order_from_graphql({**graphql_order(), "totalPriceSet": None})


# -- consent push ----------------------------------------------------------------------------


def push(
    state: ConsentState = ConsentState.SUBSCRIBED,
    channel: Channel = Channel.EMAIL,
    occurred_at: datetime = datetime(2026, 3, 1, 15, 0, 7, 250_000, tzinfo=UTC),
) -> ConsentPush:
    return ConsentPush(str(CUSTOMER_ID), channel, state, OptInLevel.CONFIRMED, occurred_at)


def test_push_variables() -> None:
    variables = mapping.consent_update_variables(push(channel=Channel.SMS))
    assert variables == {
        "input": {
            "customerId": f"gid://shopify/Customer/{CUSTOMER_ID}",
            "smsMarketingConsent": {
                "marketingState": "SUBSCRIBED",
                "marketingOptInLevel": "CONFIRMED_OPT_IN",
                "consentUpdatedAt": "2026-03-01T15:00:07Z",
            },
        }
    }


@pytest.mark.parametrize(
    ("state", "sent"),
    [
        (ConsentState.SUBSCRIBED, "SUBSCRIBED"),
        (ConsentState.UNSUBSCRIBED, "UNSUBSCRIBED"),
        (ConsentState.PENDING, "PENDING"),
        (ConsentState.NOT_SUBSCRIBED, "UNSUBSCRIBED"),
    ],
)
def test_push_states_are_shopify_input_states(state: ConsentState, sent: str) -> None:
    consent = mapping.consent_update_variables(push(state))["input"]["emailMarketingConsent"]
    assert consent["marketingState"] == sent


def test_push_converts_other_zones_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    variables = mapping.consent_update_variables(
        push(occurred_at=datetime(2026, 3, 1, 17, 0, 7, tzinfo=plus_two))
    )
    assert variables["input"]["emailMarketingConsent"]["consentUpdatedAt"] == (
        "2026-03-01T15:00:07Z"
    )


def test_push_refuses_channels_shopify_lacks() -> None:
    with pytest.raises(ValueError, match="whatsapp"):
        mapping.consent_update_variables(push(channel=Channel.WHATSAPP))


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_round_trip_push_then_echo_is_the_same_fact(channel: Channel) -> None:
    """What we push comes back in the echo webhook as the same consent and timestamp."""
    sent = push(ConsentState.SUBSCRIBED, channel, datetime(2026, 3, 1, 15, 0, 7, tzinfo=UTC))
    consent = mapping.consent_update_variables(sent)["input"][mapping.CONSENT_INPUT_KEYS[channel]]
    # Shopify echoes the stored consent in its REST shape: lower-case strings.
    echoed = {
        "state": consent["marketingState"].lower(),
        "opt_in_level": consent["marketingOptInLevel"].lower(),
        "consent_updated_at": consent["consentUpdatedAt"].replace("Z", "+00:00"),
    }
    if channel is Channel.EMAIL:
        topic = "customers_email_marketing_consent/update"
        payload: dict[str, Any] = {
            "customer_id": CUSTOMER_ID,
            "email_address": "a@example.com",
            "email_marketing_consent": echoed,
        }
    else:
        topic = "customers_marketing_consent/update"
        payload = {"id": CUSTOMER_ID, "phone": "+14155550101", "sms_marketing_consent": echoed}
    (change,) = mapping.changes_from_webhook(topic, payload)
    assert change.customer is not None
    assert change.customer.remote_id == sent.customer_remote_id
    assert change.customer.consents == (
        RemoteConsent(channel, sent.state, sent.opt_in_level, sent.occurred_at),
    )
