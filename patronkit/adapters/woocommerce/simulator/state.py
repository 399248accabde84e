"""In-memory data of one WordPress + WooCommerce site: users, orders, coupons, webhooks, keys.

Plain records plus one re-entrant lock. Changes that WooCommerce would announce (hooks that
webhooks listen to) go through `actions.StoreActions`; this module only stores and counts.
Ids follow WordPress: users have their own sequence (1 is the site admin), orders and
coupons are posts and share one sequence, meta rows have theirs.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

ADMIN_USER_ID = 1
ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
)
# wc_get_is_paid_statuses(): an order in one of these has been paid.
PAID_STATUSES = ("processing", "completed")
DISCOUNT_TYPES = ("percent", "fixed_cart", "fixed_product")
WEBHOOK_STATUSES = ("active", "paused", "disabled")
KEY_PERMISSIONS = ("read", "write", "read_write")

BILLING_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
)
SHIPPING_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "phone",
)


def empty_address(fields: tuple[str, ...]) -> dict[str, str]:
    return dict.fromkeys(fields, "")


@dataclass
class MetaEntry:
    id: int
    key: str
    value: Any


@dataclass
class Customer:
    """A WordPress user as WC_Customer sees it."""

    id: int
    email: str
    username: str
    role: str
    date_created: datetime
    # The `last_update` user meta: what REST reports as date_modified. Absent for users
    # created outside WooCommerce until their profile is first saved.
    last_update: datetime | None
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    billing: dict[str, str] = field(default_factory=lambda: empty_address(BILLING_FIELDS))
    shipping: dict[str, str] = field(default_factory=lambda: empty_address(SHIPPING_FIELDS))
    is_paying_customer: bool = False
    meta: list[MetaEntry] = field(default_factory=list)

    def meta_value(self, key: str) -> Any:
        for entry in self.meta:
            if entry.key == key:
                return entry.value
        return None


@dataclass
class LineItem:
    id: int
    name: str
    product_id: int
    quantity: int
    subtotal: Decimal  # before coupon discounts
    total: Decimal  # after coupon discounts


@dataclass
class CouponLine:
    id: int
    code: str
    discount: Decimal


@dataclass
class Refund:
    id: int
    amount: Decimal
    reason: str
    date_created: datetime


@dataclass
class Order:
    id: int
    status: str
    currency: str
    customer_id: int  # 0 for guests, matched to people only by billing email
    billing: dict[str, str]
    shipping: dict[str, str]
    date_created: datetime
    date_modified: datetime
    order_key: str
    created_via: str = "checkout"
    line_items: list[LineItem] = field(default_factory=list)
    coupon_lines: list[CouponLine] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    shipping_total: Decimal = Decimal("0")
    date_paid: datetime | None = None
    date_completed: datetime | None = None
    payment_method: str = ""
    payment_method_title: str = ""
    transaction_id: str = ""
    customer_note: str = ""
    meta: list[MetaEntry] = field(default_factory=list)

    @property
    def discount_total(self) -> Decimal:
        return sum((line.discount for line in self.coupon_lines), Decimal("0"))

    @property
    def items_total(self) -> Decimal:
        return sum((item.total for item in self.line_items), Decimal("0"))

    @property
    def total(self) -> Decimal:
        # Line totals are after discounts in WooCommerce; coupon discounts are reported
        # alongside them, never subtracted twice.
        return self.items_total + self.shipping_total

    @property
    def refunded_total(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0"))


@dataclass
class Coupon:
    id: int
    code: str  # stored lowercased, as wc_format_coupon_code() does
    amount: Decimal
    discount_type: str
    date_created: datetime
    date_modified: datetime
    post_status: str = "publish"  # "trash" after a non-forced delete
    description: str = ""
    date_expires: datetime | None = None
    usage_count: int = 0
    individual_use: bool = False
    product_ids: list[int] = field(default_factory=list)
    excluded_product_ids: list[int] = field(default_factory=list)
    usage_limit: int | None = None
    usage_limit_per_user: int | None = None
    limit_usage_to_x_items: int | None = None
    free_shipping: bool = False
    product_categories: list[int] = field(default_factory=list)
    excluded_product_categories: list[int] = field(default_factory=list)
    exclude_sale_items: bool = False
    minimum_amount: Decimal = Decimal("0")
    maximum_amount: Decimal = Decimal("0")
    email_restrictions: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    meta: list[MetaEntry] = field(default_factory=list)


@dataclass
class Webhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    user_id: int
    date_created: datetime
    date_modified: datetime
    api_version: int = 3
    failure_count: int = 0
    pending_delivery: bool = True  # cleared once the ping is answered with 200

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        parts = self.topic.split(".", 1)
        return parts[1] if len(parts) > 1 else ""


@dataclass
class ApiKey:
    """A row of wp_woocommerce_api_keys: the consumer key is stored only as its hash."""

    key_id: int
    user_id: int
    description: str
    permissions: str
    consumer_key_hash: str
    consumer_secret: str
    truncated_key: str
    # OAuth nonces seen, keyed by their timestamp: a later nonce with the same timestamp
    # replaces the earlier one, exactly as WooCommerce stores them.
    nonces: dict[int, str] = field(default_factory=dict)
    last_access: datetime | None = None


@dataclass
class StoreState:
    """All mutable data of one site. Hold `lock` while reading or writing."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    coupons: dict[int, Coupon] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    api_keys: dict[int, ApiKey] = field(default_factory=dict)
    _user_ids: Iterator[int] = field(default_factory=lambda: itertools.count(ADMIN_USER_ID))
    _post_ids: Iterator[int] = field(default_factory=lambda: itertools.count(100))
    _meta_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _item_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _webhook_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _key_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def clear(self) -> None:
        """Forget everything, ids included, as a fresh install would."""
        with self.lock:
            fresh = StoreState()
            for name in (
                "customers",
                "orders",
                "coupons",
                "webhooks",
                "api_keys",
                "_user_ids",
                "_post_ids",
                "_meta_ids",
                "_item_ids",
                "_webhook_ids",
                "_key_ids",
            ):
                setattr(self, name, getattr(fresh, name))

    def next_user_id(self) -> int:
        return next(self._user_ids)

    def next_post_id(self) -> int:
        return next(self._post_ids)

    def next_meta_id(self) -> int:
        return next(self._meta_ids)

    def next_item_id(self) -> int:
        return next(self._item_ids)

    def next_webhook_id(self) -> int:
        return next(self._webhook_ids)

    def next_key_id(self) -> int:
        return next(self._key_ids)

    def customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        for customer in self.customers.values():
            if customer.email.lower() == wanted:
                return customer
        return None

    def username_taken(self, username: str) -> bool:
        return any(c.username == username for c in self.customers.values())

    def coupon_by_code(self, code: str, exclude_id: int = 0) -> Coupon | None:
        wanted = code.strip().lower()
        for coupon in self.coupons.values():
            if coupon.code == wanted and coupon.id != exclude_id and coupon.post_status != "trash":
                return coupon
        return None

    def orders_of(self, customer_id: int) -> list[Order]:
        return [o for o in self.orders.values() if o.customer_id == customer_id]
