"""In-memory data of one shop: customers, orders, app installation, webhooks, bulk runs.

Plain records plus one re-entrant lock. Everything that changes data and must tell the
app about it goes through `actions.ShopActions`; this module only stores and looks up.
Customers and orders are added, removed and re-stamped through `ShopState`'s methods,
which keep the sorted indexes (`index.py`) that pages are served from in step.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .index import IndexKey, RecordIndexes, epoch_seconds

# Shopify ids are large integers; starting high catches clients that squeeze them into
# 32-bit ints or JavaScript numbers.
FIRST_CUSTOMER_ID = 7_400_000_000_001
FIRST_ORDER_ID = 5_600_000_000_001
FIRST_OTHER_ID = 1_100_000_000_001

EMAIL_STATES = ("INVALID", "NOT_SUBSCRIBED", "PENDING", "REDACTED", "SUBSCRIBED", "UNSUBSCRIBED")
SMS_STATES = ("NOT_SUBSCRIBED", "PENDING", "REDACTED", "SUBSCRIBED", "UNSUBSCRIBED")
CONSENT_INPUT_STATES = ("SUBSCRIBED", "UNSUBSCRIBED", "PENDING")
OPT_IN_LEVELS = ("SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN")


@dataclass
class EmailConsent:
    marketing_state: str
    opt_in_level: str | None
    consent_updated_at: datetime | None


@dataclass
class SmsConsent:
    marketing_state: str
    opt_in_level: str | None
    consent_updated_at: datetime | None
    consent_collected_from: str = "OTHER"


@dataclass
class Customer:
    id: int
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    created_at: datetime
    updated_at: datetime
    email_consent: EmailConsent
    sms_consent: SmsConsent | None
    tags: list[str] = field(default_factory=list)
    note: str | None = None
    state: str = "DISABLED"  # CustomerState: no storefront account until invited
    verified_email: bool = True


@dataclass
class Fulfillment:
    id: int
    created_at: datetime
    delivered_at: datetime | None
    status: str  # FulfillmentStatus: SUCCESS, CANCELLED, ...


@dataclass
class Refund:
    id: int
    created_at: datetime
    amount: Decimal
    note: str | None = None


@dataclass
class Order:
    id: int
    number: int  # the "#1001" in name
    customer_id: int | None
    email: str | None
    created_at: datetime
    updated_at: datetime
    processed_at: datetime
    total_price: Decimal
    currency: str
    financial_status: str  # OrderDisplayFinancialStatus: PENDING, PAID, REFUNDED, ...
    discount_codes: list[str] = field(default_factory=list)
    cancelled_at: datetime | None = None
    fulfillments: list[Fulfillment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def refunded_total(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0"))

    @property
    def current_total(self) -> Decimal:
        return self.total_price - self.refunded_total

    @property
    def outstanding(self) -> Decimal:
        paid_like = {"PAID", "PARTIALLY_REFUNDED", "REFUNDED"}
        return Decimal("0") if self.financial_status in paid_like else self.current_total

    @property
    def fulfillment_status(self) -> str:
        return (
            "FULFILLED" if any(f.status == "SUCCESS" for f in self.fulfillments) else "UNFULFILLED"
        )


@dataclass
class DiscountCode:
    id: int
    code: str
    title: str
    created_at: datetime
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    applies_once_per_customer: bool
    percentage: float | None
    amount: Decimal | None
    customer_ids: list[int] = field(default_factory=list)


@dataclass
class WebhookSubscription:
    id: int
    topic: str  # GraphQL enum form, e.g. CUSTOMERS_UPDATE
    callback_url: str
    format: str
    created_at: datetime
    updated_at: datetime


@dataclass
class BulkOperation:
    id: int
    query: str
    status: str  # CREATED, RUNNING, COMPLETED, FAILED, CANCELED, ...
    created_at: datetime
    completed_at: datetime | None = None
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    file_path: str | None = None


@dataclass
class AccessToken:
    token: str
    scopes: tuple[str, ...]
    online: bool = False
    expires_at: float | None = None


def id_key(record: Customer | Order) -> IndexKey:
    return (record.id, record.id)


def updated_at_key(record: Customer | Order) -> IndexKey:
    return (epoch_seconds(record.updated_at), record.id)


def processed_at_key(order: Order) -> IndexKey:
    return (epoch_seconds(order.processed_at), order.id)


def _customer_indexes() -> RecordIndexes[Customer]:
    return RecordIndexes({"ID": id_key, "UPDATED_AT": updated_at_key})


def _order_indexes() -> RecordIndexes[Order]:
    return RecordIndexes(
        {"ID": id_key, "UPDATED_AT": updated_at_key, "PROCESSED_AT": processed_at_key}
    )


@dataclass
class ShopState:
    """All mutable data of one shop. Hold `lock` while reading or writing."""

    domain: str
    name: str
    shop_id: int
    currency: str = "USD"
    lock: threading.RLock = field(default_factory=threading.RLock)
    customers: dict[int, Customer] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    order_ids_by_customer: dict[int, list[int]] = field(default_factory=dict)
    discount_codes: dict[int, DiscountCode] = field(default_factory=dict)
    webhook_subscriptions: dict[int, WebhookSubscription] = field(default_factory=dict)
    bulk_operations: dict[int, BulkOperation] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    # authorization code -> (scopes, issued at); single use
    authorization_codes: dict[str, tuple[tuple[str, ...], float]] = field(default_factory=dict)
    installed: bool = True
    # Sorted (value, id) keys of `customers` / `orders`, by sort key name.
    customer_indexes: RecordIndexes[Customer] = field(default_factory=_customer_indexes)
    order_indexes: RecordIndexes[Order] = field(default_factory=_order_indexes)
    _customer_ids: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_CUSTOMER_ID))
    _order_ids: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_ORDER_ID))
    _other_ids: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_OTHER_ID))
    _order_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1001))

    def next_customer_id(self) -> int:
        return next(self._customer_ids)

    def next_order_id(self) -> int:
        return next(self._order_ids)

    def next_order_number(self) -> int:
        return next(self._order_numbers)

    def next_id(self) -> int:
        return next(self._other_ids)

    def customer_by_email(self, email: str) -> Customer | None:
        wanted = email.strip().lower()
        for customer in self.customers.values():
            if customer.email is not None and customer.email.lower() == wanted:
                return customer
        return None

    def customer_by_phone(self, phone: str) -> Customer | None:
        for customer in self.customers.values():
            if customer.phone == phone:
                return customer
        return None

    def add_customer(self, customer: Customer) -> None:
        replaced = self.customers.get(customer.id)
        if replaced is not None:
            self.customer_indexes.remove(replaced)
        self.customers[customer.id] = customer
        self.customer_indexes.add(customer)

    def remove_customer(self, customer_id: int) -> Customer:
        customer = self.customers.pop(customer_id)
        self.customer_indexes.remove(customer)
        return customer

    def touch_customer(self, customer: Customer, updated_at: datetime) -> None:
        """Set `updated_at`; the customer moves in the UPDATED_AT order."""
        with self.customer_indexes.changing(customer):
            customer.updated_at = updated_at

    def touch_order(self, order: Order, updated_at: datetime) -> None:
        """Set `updated_at`; the order moves in the UPDATED_AT order."""
        with self.order_indexes.changing(order):
            order.updated_at = updated_at

    def add_order(self, order: Order) -> None:
        replaced = self.orders.get(order.id)
        if replaced is not None:
            self.order_indexes.remove(replaced)
        self.orders[order.id] = order
        self.order_indexes.add(order)
        if order.customer_id is not None:
            self.order_ids_by_customer.setdefault(order.customer_id, []).append(order.id)

    def orders_of(self, customer_id: int) -> list[Order]:
        ids = self.order_ids_by_customer.get(customer_id, [])
        return [self.orders[order_id] for order_id in ids if order_id in self.orders]

    def amount_spent(self, customer_id: int) -> Decimal:
        return sum(
            (o.current_total for o in self.orders_of(customer_id) if o.cancelled_at is None),
            Decimal("0"),
        )
