"""REST-shaped webhook payloads, as Shopify sends them for each topic.

Since API version 2025-01 the customers/* payloads no longer carry tags,
email_marketing_consent or sms_marketing_consent; consent travels on its own topics.
"""

from __future__ import annotations

from typing import Any

from .formats import gid, money_rest, rest_iso
from .state import Customer, EmailConsent, Order, Refund, ShopState, SmsConsent

CONSENT_FIELDS_REMOVED_IN = "2025-01"


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def email_consent_rest(consent: EmailConsent) -> dict[str, Any]:
    return {
        "state": _lower(consent.marketing_state),
        "opt_in_level": _lower(consent.opt_in_level),
        "consent_updated_at": rest_iso(consent.consent_updated_at),
    }


def sms_consent_rest(consent: SmsConsent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {
        "state": _lower(consent.marketing_state),
        "opt_in_level": _lower(consent.opt_in_level),
        "consent_updated_at": rest_iso(consent.consent_updated_at),
        "consent_collected_from": consent.consent_collected_from,
    }


def customer_payload(state: ShopState, customer: Customer, api_version: str) -> dict[str, Any]:
    orders = state.orders_of(customer.id)
    payload: dict[str, Any] = {
        "id": customer.id,
        "email": customer.email,
        "created_at": rest_iso(customer.created_at),
        "updated_at": rest_iso(customer.updated_at),
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "orders_count": len(orders),
        "state": customer.state.lower(),
        "total_spent": money_rest(state.amount_spent(customer.id)),
        "last_order_id": orders[-1].id if orders else None,
        "note": customer.note,
        "verified_email": customer.verified_email,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": customer.phone,
        "currency": state.currency,
        "addresses": [],
        "tax_exemptions": [],
        "admin_graphql_api_id": gid("Customer", customer.id),
        "default_address": None,
    }
    if api_version < CONSENT_FIELDS_REMOVED_IN:
        payload["tags"] = ", ".join(customer.tags)
        payload["email_marketing_consent"] = email_consent_rest(customer.email_consent)
        payload["sms_marketing_consent"] = sms_consent_rest(customer.sms_consent)
    return payload


def customer_deleted_payload(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "phone": customer.phone,
        "addresses": [],
        "tax_exemptions": [],
        "admin_graphql_api_id": gid("Customer", customer.id),
    }


def email_consent_payload(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "email_address": customer.email,
        "email_marketing_consent": email_consent_rest(customer.email_consent),
    }


def sms_consent_payload(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "phone": customer.phone,
        "sms_marketing_consent": sms_consent_rest(customer.sms_consent),
    }


_FINANCIAL_STATUS_REST = {
    "PENDING": "pending",
    "AUTHORIZED": "authorized",
    "PAID": "paid",
    "PARTIALLY_PAID": "partially_paid",
    "PARTIALLY_REFUNDED": "partially_refunded",
    "REFUNDED": "refunded",
    "VOIDED": "voided",
    "EXPIRED": "expired",
}


def refund_payload(order: Order, refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "order_id": order.id,
        "created_at": rest_iso(refund.created_at),
        "processed_at": rest_iso(refund.created_at),
        "note": refund.note,
        "restock": False,
        "admin_graphql_api_id": gid("Refund", refund.id),
        "refund_line_items": [],
        "order_adjustments": [],
        "transactions": [
            {
                "kind": "refund",
                "status": "success",
                "amount": money_rest(refund.amount),
                "currency": order.currency,
                "order_id": order.id,
                "created_at": rest_iso(refund.created_at),
            }
        ],
    }


def order_payload(state: ShopState, order: Order) -> dict[str, Any]:
    customer = state.customers.get(order.customer_id) if order.customer_id else None
    fulfilled = order.fulfillment_status == "FULFILLED"
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": order.name,
        "order_number": order.number,
        "number": order.number - 1000,
        "email": order.email,
        "contact_email": order.email,
        "created_at": rest_iso(order.created_at),
        "updated_at": rest_iso(order.updated_at),
        "processed_at": rest_iso(order.processed_at),
        "cancelled_at": rest_iso(order.cancelled_at),
        "currency": order.currency,
        "presentment_currency": order.currency,
        "total_price": money_rest(order.total_price),
        "subtotal_price": money_rest(order.total_price),
        "current_total_price": money_rest(order.current_total),
        "total_outstanding": money_rest(order.outstanding),
        "financial_status": _FINANCIAL_STATUS_REST.get(order.financial_status, "pending"),
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "discount_codes": [
            {"code": code, "amount": "0.00", "type": "fixed_amount"}
            for code in order.discount_codes
        ],
        "customer": (
            {
                "id": customer.id,
                "email": customer.email,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "phone": customer.phone,
                "admin_graphql_api_id": gid("Customer", customer.id),
            }
            if customer
            else None
        ),
        "fulfillments": [
            {
                "id": f.id,
                "order_id": order.id,
                "status": f.status.lower(),
                "created_at": rest_iso(f.created_at),
                "updated_at": rest_iso(f.delivered_at or f.created_at),
                "shipment_status": "delivered" if f.delivered_at else None,
                "admin_graphql_api_id": gid("Fulfillment", f.id),
            }
            for f in order.fulfillments
        ],
        "refunds": [refund_payload(order, refund) for refund in order.refunds],
        "line_items": [],
    }


def shop_reference(state: ShopState) -> dict[str, Any]:
    return {"shop_id": state.shop_id, "shop_domain": state.domain}


def data_request_payload(
    state: ShopState, customer: Customer, request_id: int, order_ids: list[int]
) -> dict[str, Any]:
    return {
        **shop_reference(state),
        "orders_requested": order_ids,
        "customer": {"id": customer.id, "email": customer.email, "phone": customer.phone},
        "data_request": {"id": request_id},
    }


def customer_redact_payload(
    state: ShopState, customer: Customer, order_ids: list[int]
) -> dict[str, Any]:
    return {
        **shop_reference(state),
        "customer": {"id": customer.id, "email": customer.email, "phone": customer.phone},
        "orders_to_redact": order_ids,
    }


def app_uninstalled_payload(state: ShopState) -> dict[str, Any]:
    # app/uninstalled carries the REST Shop resource; the fields apps read are these.
    return {
        "id": state.shop_id,
        "name": state.name,
        "domain": state.domain,
        "myshopify_domain": state.domain,
        "currency": state.currency,
        "email": f"owner@{state.domain}",
    }
