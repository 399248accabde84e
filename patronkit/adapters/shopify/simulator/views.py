"""Records rendered as GraphQL objects: dicts keyed by field name.

Values that cost work (connections, counts) are callables; graphql-core's default
resolver calls them with (info, **arguments) only when the query selects the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .formats import gid, iso, money_graphql
from .pagination import connection
from .state import (
    BulkOperation,
    Customer,
    DiscountCode,
    Order,
    ShopState,
    WebhookSubscription,
)

if TYPE_CHECKING:
    from decimal import Decimal

    from .context import Info


def money_v2(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": money_graphql(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    value = money_v2(amount, currency)
    return {"shopMoney": value, "presentmentMoney": value}


def shop_view(state: ShopState) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": gid("Shop", state.shop_id),
        "name": state.name,
        "myshopifyDomain": state.domain,
        "email": f"owner@{state.domain}",
        "currencyCode": state.currency,
    }


def customer_view(state: ShopState, customer: Customer) -> dict[str, Any]:
    email = customer.email_consent
    sms = customer.sms_consent
    display = " ".join(p for p in (customer.first_name, customer.last_name) if p)

    def orders(info: Info, **args: Any) -> dict[str, Any]:
        from .resolvers import order_connection

        return order_connection(info, args, customer_id=customer.id)

    return {
        "__typename": "Customer",
        "id": gid("Customer", customer.id),
        "legacyResourceId": customer.id,
        "email": customer.email,
        "phone": customer.phone,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "displayName": display or customer.email or customer.phone or "",
        "note": customer.note,
        "state": customer.state,
        "verifiedEmail": customer.verified_email,
        "createdAt": iso(customer.created_at),
        "updatedAt": iso(customer.updated_at),
        "tags": list(customer.tags),
        "numberOfOrders": lambda info, **_: len(state.orders_of(customer.id)),
        "amountSpent": lambda info, **_: money_v2(state.amount_spent(customer.id), state.currency),
        "emailMarketingConsent": (
            {
                "marketingState": email.marketing_state,
                "marketingOptInLevel": email.opt_in_level,
                "consentUpdatedAt": iso(email.consent_updated_at),
            }
            if customer.email
            else None
        ),
        "smsMarketingConsent": (
            {
                "marketingState": sms.marketing_state,
                "marketingOptInLevel": sms.opt_in_level or "UNKNOWN",
                "consentUpdatedAt": iso(sms.consent_updated_at),
                "consentCollectedFrom": sms.consent_collected_from,
            }
            if sms is not None
            else None
        ),
        "orders": orders,
    }


def order_view(state: ShopState, order: Order) -> dict[str, Any]:
    def customer(info: Info, **_: Any) -> dict[str, Any] | None:
        record = state.customers.get(order.customer_id) if order.customer_id else None
        return customer_view(state, record) if record else None

    def limited(items: list[dict[str, Any]], first: int | None = None) -> list[dict[str, Any]]:
        return items if first is None else items[:first]

    fulfillments = [
        {
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", f.id),
            "createdAt": iso(f.created_at),
            "deliveredAt": iso(f.delivered_at),
            "status": f.status,
        }
        for f in order.fulfillments
    ]
    refunds = [
        {
            "__typename": "Refund",
            "id": gid("Refund", r.id),
            "createdAt": iso(r.created_at),
            "note": r.note,
            "totalRefundedSet": money_bag(r.amount, order.currency),
        }
        for r in order.refunds
    ]
    return {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": order.id,
        "name": order.name,
        "email": order.email,
        "customer": customer,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.processed_at),
        "cancelledAt": iso(order.cancelled_at),
        "currencyCode": order.currency,
        "displayFinancialStatus": order.financial_status,
        "displayFulfillmentStatus": order.fulfillment_status,
        "totalPriceSet": money_bag(order.total_price, order.currency),
        "currentTotalPriceSet": money_bag(order.current_total, order.currency),
        "totalOutstandingSet": money_bag(order.outstanding, order.currency),
        "totalRefundedSet": money_bag(order.refunded_total, order.currency),
        "discountCode": order.discount_codes[0] if order.discount_codes else None,
        "discountCodes": list(order.discount_codes),
        "fulfillments": lambda info, first=None: limited(fulfillments, first),
        "refunds": lambda info, first=None: limited(refunds, first),
    }


def webhook_subscription_view(sub: WebhookSubscription, api_version: str) -> dict[str, Any]:
    return {
        "__typename": "WebhookSubscription",
        "id": gid("WebhookSubscription", sub.id),
        "topic": sub.topic,
        "format": sub.format,
        "callbackUrl": sub.callback_url,
        "uri": sub.callback_url,
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.callback_url},
        "apiVersion": {"handle": api_version, "displayName": api_version, "supported": True},
        "createdAt": iso(sub.created_at),
        "updatedAt": iso(sub.updated_at),
    }


def bulk_operation_view(operation: BulkOperation) -> dict[str, Any]:
    return {
        "__typename": "BulkOperation",
        "id": gid("BulkOperation", operation.id),
        "status": operation.status,
        "type": "QUERY",
        "errorCode": operation.error_code,
        "objectCount": operation.object_count,
        "rootObjectCount": operation.root_object_count,
        "fileSize": operation.file_size,
        "url": operation.url,
        "partialDataUrl": None,
        "query": operation.query,
        "createdAt": iso(operation.created_at),
        "completedAt": iso(operation.completed_at),
    }


def discount_node_view(discount: DiscountCode) -> dict[str, Any]:
    code = {
        "__typename": "DiscountRedeemCode",
        "id": gid("DiscountRedeemCode", discount.id),
        "code": discount.code,
    }

    def codes(info: Info, first: int | None = None) -> dict[str, Any]:
        return connection([code], first=first or 1, key=lambda c: (0, discount.id))

    return {
        "__typename": "DiscountCodeNode",
        "id": gid("DiscountCodeNode", discount.id),
        "codeDiscount": {
            "__typename": "DiscountCodeBasic",
            "title": discount.title,
            "startsAt": iso(discount.starts_at or discount.created_at),
            "endsAt": iso(discount.ends_at),
            "usageLimit": discount.usage_limit,
            "appliesOncePerCustomer": discount.applies_once_per_customer,
            "codes": codes,
        },
    }
