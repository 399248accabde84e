"""Changes to orders and the hooks they fire, as WC_Order and its data store do.

Orders of registered customers carry customer_id; guest orders have customer_id 0 and
can be tied to a person only by billing.email. Every save of an order bumps its
date_modified (as the HPOS data store does) and fires order.updated; a new order fires
order.created, and a payment right after it (checkout, or REST `set_paid`) an
order.updated in the same request.
"""

from __future__ import annotations

import secrets
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .config import SimulatorConfig
from .customers import CustomerActions
from .errors import RestError, not_found
from .formats import decimal_amount, now_utc
from .meta import apply_meta_input
from .state import (
    BILLING_FIELDS,
    ORDER_STATUSES,
    PAID_STATUSES,
    SHIPPING_FIELDS,
    Coupon,
    CouponLine,
    LineItem,
    Order,
    Refund,
    StoreState,
    empty_address,
)
from .webhooks import WebhookDispatcher

CENT = Decimal("0.01")
# wc_update_coupon_usage_counts() counts a use when an order reaches one of these.
COUNTED_STATUSES = ("pending", "processing", "on-hold", "completed")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _invalid_coupon(message: str) -> RestError:
    return RestError("woocommerce_rest_invalid_coupon", message, 400)


class OrderActions:
    def __init__(
        self,
        state: StoreState,
        dispatcher: WebhookDispatcher,
        config: SimulatorConfig,
        customers: CustomerActions,
    ) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self.config = config
        self.customers = customers

    def get(self, order_id: int, status: int = 404) -> Order:
        order = self.state.orders.get(order_id)
        if order is None:
            raise not_found("shop_order", status=status)
        return order

    # -- creating ------------------------------------------------------------------------

    def create(self, fields: dict[str, Any], *, created_via: str = "rest-api") -> Order:
        with self.state.lock:
            customer_id = int(fields.get("customer_id") or 0)
            if customer_id and customer_id not in self.state.customers:
                raise RestError(
                    "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400
                )
            status = str(fields.get("status") or "pending")
            if status not in ORDER_STATUSES:
                raise RestError("rest_invalid_param", "Invalid parameter(s): status", 400)
            now = now_utc()
            order = Order(
                id=self.state.next_post_id(),
                status=status,
                currency=str(fields.get("currency") or self.config.currency),
                customer_id=customer_id,
                billing=empty_address(BILLING_FIELDS),
                shipping=empty_address(SHIPPING_FIELDS),
                date_created=now,
                date_modified=now,
                order_key="wc_order_" + secrets.token_urlsafe(10).replace("-", "a")[:13],
                created_via=created_via,
            )
            self._apply_fields(order, fields)
            order.line_items = [self._line_item(raw) for raw in fields.get("line_items") or []]
            if fields.get("shipping_total") is not None:
                order.shipping_total = _cents(decimal_amount(fields["shipping_total"]))
            for raw in fields.get("coupon_lines") or []:
                self._apply_coupon(order, str((raw or {}).get("code") or ""))
            if status in PAID_STATUSES:
                order.date_paid = now
            if status == "completed":
                order.date_completed = now
            self.state.orders[order.id] = order
            self._count_coupon_use(order, +1)
            self.dispatcher.fire("order", "created", order.id)
            if status in PAID_STATUSES and customer_id:
                self.customers.mark_paying(self.state.customers[customer_id])
            if fields.get("set_paid"):
                self._pay(order)
                self._saved(order)
            return order

    def _line_item(self, raw: Any) -> LineItem:
        if not isinstance(raw, dict):
            raise RestError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
        quantity = int(raw.get("quantity") or 1)
        # There are no products here: the price comes with the item (simulator extension).
        if raw.get("subtotal") is not None:
            subtotal = decimal_amount(raw["subtotal"])
        elif raw.get("total") is not None:
            subtotal = decimal_amount(raw["total"])
        else:
            subtotal = decimal_amount(raw.get("price", "10")) * quantity
        subtotal = _cents(subtotal)
        return LineItem(
            id=self.state.next_item_id(),
            name=str(raw.get("name") or f"Product {raw.get('product_id', 0)}"),
            product_id=int(raw.get("product_id") or 0),
            quantity=quantity,
            subtotal=subtotal,
            total=_cents(decimal_amount(raw["total"]))
            if raw.get("total") is not None
            else subtotal,
        )

    def _apply_coupon(self, order: Order, code: str) -> None:
        """WC_Order::apply_coupon(): validates, then spreads the discount over the items."""
        coupon = self.state.coupon_by_code(code)
        if coupon is None:
            raise _invalid_coupon(f'Coupon "{code.lower()}" does not exist!')
        if coupon.date_expires is not None and coupon.date_expires < now_utc():
            raise _invalid_coupon("This coupon has expired.")
        if coupon.usage_limit is not None and coupon.usage_count >= coupon.usage_limit:
            raise _invalid_coupon("Coupon usage limit has been reached.")
        items_total = order.items_total
        if coupon.discount_type == "percent":
            discount = _cents(items_total * coupon.amount / 100)
        elif coupon.discount_type == "fixed_product":
            discount = min(items_total, coupon.amount * sum(i.quantity for i in order.line_items))
        else:
            discount = min(items_total, coupon.amount)
        remaining = discount
        for index, item in enumerate(order.line_items):
            last = index == len(order.line_items) - 1
            share = remaining if last else _cents(discount * item.total / items_total)
            share = min(share, item.total)
            item.total -= share
            remaining -= share
        order.coupon_lines.append(CouponLine(self.state.next_item_id(), coupon.code, discount))

    def _count_coupon_use(self, order: Order, step: int) -> None:
        """Usage counts are written straight to post meta: no coupon hook, no bump."""
        if order.status not in COUNTED_STATUSES and step > 0:
            return
        who = str(order.customer_id) if order.customer_id else order.billing.get("email", "")
        for line in order.coupon_lines:
            coupon: Coupon | None = self.state.coupon_by_code(line.code)
            if coupon is None:
                continue
            coupon.usage_count = max(0, coupon.usage_count + step)
            if step > 0:
                coupon.used_by.append(who)
            elif who in coupon.used_by:
                coupon.used_by.remove(who)

    # -- changing ------------------------------------------------------------------------

    def _apply_fields(self, order: Order, fields: dict[str, Any]) -> None:
        for name, target, allowed in (
            ("billing", order.billing, BILLING_FIELDS),
            ("shipping", order.shipping, SHIPPING_FIELDS),
        ):
            values = fields.get(name)
            if isinstance(values, dict):
                for key in allowed:
                    if values.get(key) is not None:
                        target[key] = str(values[key])
        for name in ("payment_method", "payment_method_title", "transaction_id", "customer_note"):
            if fields.get(name) is not None:
                setattr(order, name, str(fields[name]))
        if fields.get("meta_data") is not None:
            order.meta, _ = apply_meta_input(
                order.meta, fields["meta_data"], self.state.next_meta_id
            )

    def _set_status(self, order: Order, status: str) -> None:
        if status not in ORDER_STATUSES:
            raise RestError("rest_invalid_param", "Invalid parameter(s): status", 400)
        previous, order.status = order.status, status
        now = now_utc()
        if status in PAID_STATUSES and order.date_paid is None:
            order.date_paid = now  # maybe_set_date_paid()
        if status == "completed" and order.date_completed is None:
            order.date_completed = now
        if status in ("cancelled", "failed") and previous in COUNTED_STATUSES:
            self._count_coupon_use(order, -1)
        if status in PAID_STATUSES and order.customer_id:
            customer = self.state.customers.get(order.customer_id)
            if customer is not None:
                self.customers.mark_paying(customer)

    def _pay(self, order: Order) -> None:
        """WC_Order::payment_complete(): processing, with date_paid set on the way."""
        self._set_status(order, "processing")

    def _saved(self, order: Order) -> None:
        order.date_modified = now_utc()
        self.dispatcher.fire("order", "updated", order.id)

    def update(self, order_id: int, fields: dict[str, Any]) -> Order:
        with self.state.lock:
            order = self.get(order_id, status=400)
            if fields.get("customer_id") is not None:
                customer_id = int(fields["customer_id"] or 0)
                if customer_id and customer_id not in self.state.customers:
                    raise RestError(
                        "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400
                    )
                order.customer_id = customer_id
            self._apply_fields(order, fields)
            if fields.get("status"):
                self._set_status(order, str(fields["status"]))
            if fields.get("set_paid"):
                self._pay(order)
            self._saved(order)
            return order

    def set_status(self, order_id: int, status: str) -> Order:
        with self.state.lock:
            order = self.get(order_id)
            self._set_status(order, status)
            self._saved(order)
            return order

    def refund(self, order_id: int, amount: Decimal | None, reason: str = "") -> Order:
        """wc_create_refund(): a full refund also moves the order to "refunded"."""
        with self.state.lock:
            order = self.get(order_id)
            remaining = order.total - order.refunded_total
            value = remaining if amount is None else _cents(amount)
            if value <= 0 or value > remaining:
                raise RestError(
                    "woocommerce_rest_cannot_create_order_refund",
                    "Invalid refund amount.",
                    500,
                )
            order.refunds.append(Refund(self.state.next_post_id(), value, reason, now_utc()))
            if order.refunded_total >= order.total:
                self._set_status(order, "refunded")
            self._saved(order)
            return order
