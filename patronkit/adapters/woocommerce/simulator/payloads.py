"""REST API (wc/v3) JSON of customers, orders, coupons and webhooks.

The same shapes go into webhook bodies, since WooCommerce builds those by calling its
own REST API for the resource.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .formats import gmt_date, local_date, money
from .state import PAID_STATUSES, Coupon, Customer, MetaEntry, Order, Webhook
from .topics import topic_hooks

NAMESPACE = "wc/v3"


@dataclass(frozen=True)
class SiteView:
    home_url: str
    zone: ZoneInfo
    currency_symbol: str = "€"

    def rest_url(self, route: str) -> str:
        return f"{self.home_url.rstrip('/')}/wp-json/{route.lstrip('/')}"


def _dates(site: SiteView, name: str, value: Any) -> dict[str, str | None]:
    return {name: local_date(value, site.zone), f"{name}_gmt": gmt_date(value)}


def _links(site: SiteView, rest_base: str, record_id: int) -> dict[str, Any]:
    return {
        "self": [{"href": site.rest_url(f"{NAMESPACE}/{rest_base}/{record_id}")}],
        "collection": [{"href": site.rest_url(f"{NAMESPACE}/{rest_base}")}],
    }


def meta_json(meta: list[MetaEntry]) -> list[dict[str, Any]]:
    return [{"id": entry.id, "key": entry.key, "value": entry.value} for entry in meta]


def avatar_url(email: str) -> str:
    digest = hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g"


def customer_json(customer: Customer, site: SiteView) -> dict[str, Any]:
    return {
        "id": customer.id,
        **_dates(site, "date_created", customer.date_created),
        **_dates(site, "date_modified", customer.last_update),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "role": customer.role,
        "username": customer.username,
        "billing": dict(customer.billing),
        "shipping": dict(customer.shipping),
        "is_paying_customer": customer.is_paying_customer,
        "avatar_url": avatar_url(customer.email),
        "meta_data": meta_json(customer.meta),
        "_links": _links(site, "customers", customer.id),
    }


def _zero() -> str:
    return money(Decimal("0"))


def order_json(order: Order, site: SiteView) -> dict[str, Any]:
    links = _links(site, "orders", order.id)
    if order.customer_id:
        links["customer"] = [{"href": site.rest_url(f"{NAMESPACE}/customers/{order.customer_id}")}]
    needs_payment = order.status in ("pending", "failed") and order.total > 0
    return {
        "id": order.id,
        "parent_id": 0,
        "status": order.status,
        "currency": order.currency,
        "version": "",
        "prices_include_tax": False,
        **_dates(site, "date_created", order.date_created),
        **_dates(site, "date_modified", order.date_modified),
        "discount_total": money(order.discount_total),
        "discount_tax": _zero(),
        "shipping_total": money(order.shipping_total),
        "shipping_tax": _zero(),
        "cart_tax": _zero(),
        "total": money(order.total),
        "total_tax": _zero(),
        "customer_id": order.customer_id,
        "order_key": order.order_key,
        "billing": dict(order.billing),
        "shipping": dict(order.shipping),
        "payment_method": order.payment_method,
        "payment_method_title": order.payment_method_title,
        "transaction_id": order.transaction_id,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": order.created_via,
        "customer_note": order.customer_note,
        **_dates(site, "date_completed", order.date_completed),
        **_dates(site, "date_paid", order.date_paid),
        "cart_hash": "",
        "number": str(order.id),
        "meta_data": meta_json(order.meta),
        "line_items": [
            {
                "id": item.id,
                "name": item.name,
                "product_id": item.product_id,
                "variation_id": 0,
                "quantity": item.quantity,
                "tax_class": "",
                "subtotal": money(item.subtotal),
                "subtotal_tax": _zero(),
                "total": money(item.total),
                "total_tax": _zero(),
                "taxes": [],
                "meta_data": [],
                "sku": "",
                # WooCommerce reports the unit price as a JSON number, not a string.
                "price": float(item.subtotal / item.quantity) if item.quantity else 0.0,
                "image": {"id": "", "src": ""},
                "parent_name": None,
            }
            for item in order.line_items
        ],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [
            {
                "id": line.id,
                "code": line.code,
                "discount": money(line.discount),
                "discount_tax": _zero(),
                "meta_data": [],
            }
            for line in order.coupon_lines
        ],
        "refunds": [
            {"id": refund.id, "reason": refund.reason, "total": money(-refund.amount)}
            for refund in order.refunds
        ],
        "payment_url": f"{site.home_url.rstrip('/')}/checkout/order-pay/{order.id}/"
        f"?pay_for_order=true&key={order.order_key}",
        "is_editable": order.status in ("pending", "on-hold", "auto-draft"),
        "needs_payment": needs_payment,
        "needs_processing": order.status in PAID_STATUSES,
        "currency_symbol": site.currency_symbol,
        "_links": links,
    }


def coupon_json(coupon: Coupon, site: SiteView) -> dict[str, Any]:
    return {
        "id": coupon.id,
        "code": coupon.code,
        "amount": money(coupon.amount),
        "status": coupon.post_status,
        **_dates(site, "date_created", coupon.date_created),
        **_dates(site, "date_modified", coupon.date_modified),
        "discount_type": coupon.discount_type,
        "description": coupon.description,
        **_dates(site, "date_expires", coupon.date_expires),
        "usage_count": coupon.usage_count,
        "individual_use": coupon.individual_use,
        "product_ids": list(coupon.product_ids),
        "excluded_product_ids": list(coupon.excluded_product_ids),
        "usage_limit": coupon.usage_limit,
        "usage_limit_per_user": coupon.usage_limit_per_user,
        "limit_usage_to_x_items": coupon.limit_usage_to_x_items,
        "free_shipping": coupon.free_shipping,
        "product_categories": list(coupon.product_categories),
        "excluded_product_categories": list(coupon.excluded_product_categories),
        "exclude_sale_items": coupon.exclude_sale_items,
        "minimum_amount": money(coupon.minimum_amount),
        "maximum_amount": money(coupon.maximum_amount),
        "email_restrictions": list(coupon.email_restrictions),
        "used_by": list(coupon.used_by),
        "meta_data": meta_json(coupon.meta),
        "_links": _links(site, "coupons", coupon.id),
    }


def webhook_json(webhook: Webhook, site: SiteView, *, edit: bool) -> dict[str, Any]:
    """The secret is in the "edit" context only: create/update/delete responses, not GET."""
    data: dict[str, Any] = {
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource,
        "event": webhook.event,
        "hooks": topic_hooks(webhook.topic),
        "delivery_url": webhook.delivery_url,
        **_dates(site, "date_created", webhook.date_created),
        **_dates(site, "date_modified", webhook.date_modified),
        "_links": _links(site, "webhooks", webhook.id),
    }
    if edit:
        data["secret"] = webhook.secret
    return data


def rest_error_payload(code: str, message: str, status: int) -> dict[str, Any]:
    """What an internal REST request returns for a missing resource (webhook payloads)."""
    return {"code": code, "message": message, "data": {"status": status}}
