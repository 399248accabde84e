"""Everything that changes the shop and tells the app about it, like Shopify would.

Both the GraphQL mutations (the app acting) and the control API (the merchant acting in
the Shopify admin) go through here, so both fire the same webhooks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import payloads
from .formats import now_utc
from .state import (
    CONSENT_INPUT_STATES,
    Customer,
    EmailConsent,
    Fulfillment,
    Order,
    Refund,
    ShopState,
    SmsConsent,
)
from .webhooks import SUBSCRIBABLE_TOPICS, WebhookDispatcher

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class UserErrors(Exception):
    """Validation failures, reported to GraphQL clients as userErrors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e["message"]) for e in errors))
        self.errors = errors


class NotFound(Exception):
    pass


def _error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def normalize_phone(phone: str) -> str:
    """Shopify accepts common punctuation and stores E.164."""
    compact = re.sub(r"[\s\-().]", "", phone)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _E164.match(compact):
        raise UserErrors([_error(["phone"], "Phone is invalid", "INVALID")])
    return compact


@dataclass
class CustomerFields:
    """Basic customer fields; None means 'leave as is' on update."""

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    note: str | None = None
    tags: list[str] | None = None


def _check_input_state(field: list[str], marketing_state: str, *, from_admin: bool) -> None:
    """The API accepts only SUBSCRIBED/UNSUBSCRIBED/PENDING; the admin may set any state."""
    if not from_admin and marketing_state not in CONSENT_INPUT_STATES:
        raise UserErrors(
            [
                _error(
                    [*field, "marketingState"],
                    "Marketing state is not included in the list",
                    "INCLUSION",
                )
            ]
        )


def _unchanged(
    current: EmailConsent | SmsConsent,
    marketing_state: str,
    level: str,
    requested_at: datetime | None,
    when: datetime,
) -> bool:
    """Whether a consent update would change nothing (then Shopify records and sends nothing)."""
    return (
        current.marketing_state == marketing_state
        and current.opt_in_level == level
        and (requested_at is None or current.consent_updated_at == when)
    )


class ShopActions:
    def __init__(
        self,
        state: ShopState,
        dispatcher: WebhookDispatcher,
        compliance_url: Callable[[], str | None],
    ) -> None:
        self.state = state
        self.dispatcher = dispatcher
        self._compliance_url = compliance_url

    # -- webhooks --------------------------------------------------------------------

    def emit(self, topic: str, payload: dict[str, Any]) -> str | None:
        """Deliver `topic` to every subscriber; returns the event id, None if nobody listens."""
        if topic in ("customers/data_request", "customers/redact", "shop/redact"):
            url = self._compliance_url()
            urls = [url] if url else []
        else:
            urls = [
                sub.callback_url
                for sub in self.state.webhook_subscriptions.values()
                if SUBSCRIBABLE_TOPICS.get(sub.topic) == topic
            ]
        if not urls:
            return None
        return self.dispatcher.publish(topic, payload, urls)

    def _customer_payload(self, customer: Customer) -> dict[str, Any]:
        return payloads.customer_payload(self.state, customer, self.dispatcher.api_version)

    # -- customers -------------------------------------------------------------------

    def customer(self, customer_id: int) -> Customer:
        customer = self.state.customers.get(customer_id)
        if customer is None:
            raise NotFound(f"Customer {customer_id} does not exist")
        return customer

    def _validate_identity(self, fields: CustomerFields, existing: Customer | None) -> None:
        errors: list[dict[str, Any]] = []
        if fields.email is not None and fields.email != "":
            if not _EMAIL.match(fields.email):
                errors.append(_error(["email"], "Email is invalid", "INVALID"))
            else:
                other = self.state.customer_by_email(fields.email)
                if other is not None and other is not existing:
                    errors.append(_error(["email"], "Email has already been taken", "TAKEN"))
        if fields.phone:
            try:
                fields.phone = normalize_phone(fields.phone)
            except UserErrors as invalid:
                errors.extend(invalid.errors)
            else:
                other = self.state.customer_by_phone(fields.phone)
                if other is not None and other is not existing:
                    errors.append(_error(["phone"], "Phone has already been taken", "TAKEN"))
        if errors:
            raise UserErrors(errors)

    def create_customer(
        self,
        fields: CustomerFields,
        email_consent: EmailConsent | None = None,
        sms_consent: SmsConsent | None = None,
        created_at: datetime | None = None,
    ) -> Customer:
        with self.state.lock:
            if not (fields.email or fields.phone or fields.first_name or fields.last_name):
                raise UserErrors(
                    [_error(None, "Customer must have a name, phone number or email address")]
                )
            self._validate_identity(fields, None)
            now = created_at or now_utc()
            customer = Customer(
                id=self.state.next_customer_id(),
                email=fields.email or None,
                phone=fields.phone or None,
                first_name=fields.first_name,
                last_name=fields.last_name,
                created_at=now,
                updated_at=now,
                email_consent=email_consent
                or EmailConsent("NOT_SUBSCRIBED", "SINGLE_OPT_IN", None),
                sms_consent=(
                    (sms_consent or SmsConsent("NOT_SUBSCRIBED", "UNKNOWN", None))
                    if fields.phone
                    else None
                ),
                tags=sorted(set(fields.tags or [])),
                note=fields.note,
            )
            self.state.add_customer(customer)
            self.emit("customers/create", self._customer_payload(customer))
            if email_consent is not None and customer.email:
                self.emit(
                    "customers_email_marketing_consent/update",
                    payloads.email_consent_payload(customer),
                )
            if sms_consent is not None and customer.phone:
                self.emit(
                    "customers_marketing_consent/update", payloads.sms_consent_payload(customer)
                )
            return customer

    def update_customer(self, customer_id: int, fields: CustomerFields) -> Customer:
        with self.state.lock:
            customer = self.customer(customer_id)
            self._validate_identity(fields, customer)
            changed = False
            for name in ("email", "phone", "first_name", "last_name", "note"):
                value = getattr(fields, name)
                if value is not None and getattr(customer, name) != (value or None):
                    setattr(customer, name, value or None)
                    changed = True
            if fields.tags is not None and sorted(set(fields.tags)) != customer.tags:
                customer.tags = sorted(set(fields.tags))
                changed = True
            if customer.phone and customer.sms_consent is None:
                customer.sms_consent = SmsConsent("NOT_SUBSCRIBED", "UNKNOWN", None)
            if not customer.phone:
                customer.sms_consent = None
            if changed:
                self.state.touch_customer(customer, now_utc())
                self.emit("customers/update", self._customer_payload(customer))
            return customer

    def delete_customer(self, customer_id: int) -> None:
        with self.state.lock:
            customer = self.customer(customer_id)
            if self.state.orders_of(customer_id):
                raise UserErrors(
                    [
                        _error(
                            ["id"], "Customer can't be deleted because they have associated orders"
                        )
                    ]
                )
            self.state.remove_customer(customer_id)
            self.emit("customers/delete", payloads.customer_deleted_payload(customer))

    def _consent_time(self, consent_updated_at: datetime | None, field: list[str]) -> datetime:
        now = now_utc()
        if consent_updated_at is None:
            return now
        if consent_updated_at > now:
            raise UserErrors(
                [_error(field, "Consent updated at must not be in the future", "INVALID")]
            )
        return consent_updated_at.replace(microsecond=0)

    def set_email_consent(
        self,
        customer_id: int,
        marketing_state: str,
        opt_in_level: str | None = None,
        consent_updated_at: datetime | None = None,
        *,
        from_admin: bool = False,
    ) -> Customer:
        """Change email consent; the API accepts only SUBSCRIBED/UNSUBSCRIBED/PENDING."""
        field = ["input", "emailMarketingConsent"]
        with self.state.lock:
            customer = self.customer(customer_id)
            _check_input_state(field, marketing_state, from_admin=from_admin)
            if not customer.email:
                raise UserErrors(
                    [
                        _error(
                            ["input", "customerId"],
                            "Email can't be blank for email marketing consent",
                            "INVALID",
                        )
                    ]
                )
            when = self._consent_time(consent_updated_at, [*field, "consentUpdatedAt"])
            level = opt_in_level or "SINGLE_OPT_IN"
            if _unchanged(customer.email_consent, marketing_state, level, consent_updated_at, when):
                return customer  # nothing changes, so Shopify records and sends nothing
            customer.email_consent = EmailConsent(marketing_state, level, when)
            self.state.touch_customer(customer, now_utc())
            self.emit("customers/update", self._customer_payload(customer))
            self.emit(
                "customers_email_marketing_consent/update", payloads.email_consent_payload(customer)
            )
            return customer

    def set_sms_consent(
        self,
        customer_id: int,
        marketing_state: str,
        opt_in_level: str | None = None,
        consent_updated_at: datetime | None = None,
        *,
        from_admin: bool = False,
    ) -> Customer:
        field = ["input", "smsMarketingConsent"]
        with self.state.lock:
            customer = self.customer(customer_id)
            _check_input_state(field, marketing_state, from_admin=from_admin)
            if not customer.phone or customer.sms_consent is None:
                raise UserErrors(
                    [
                        _error(
                            ["input", "customerId"],
                            "A phone number is required to set the SMS consent state.",
                            "INVALID",
                        )
                    ]
                )
            when = self._consent_time(consent_updated_at, [*field, "consentUpdatedAt"])
            level = opt_in_level or "SINGLE_OPT_IN"
            if _unchanged(customer.sms_consent, marketing_state, level, consent_updated_at, when):
                return customer
            # Changes through the API are recorded as collected by something other than Shopify.
            source = "SHOPIFY" if from_admin else "OTHER"
            customer.sms_consent = SmsConsent(marketing_state, level, when, source)
            self.state.touch_customer(customer, now_utc())
            self.emit("customers/update", self._customer_payload(customer))
            self.emit("customers_marketing_consent/update", payloads.sms_consent_payload(customer))
            return customer

    # -- orders ----------------------------------------------------------------------

    def order(self, order_id: int) -> Order:
        order = self.state.orders.get(order_id)
        if order is None:
            raise NotFound(f"Order {order_id} does not exist")
        return order

    def _order_changed(self, order: Order, *topics: str) -> None:
        self.state.touch_order(order, now_utc())
        payload = payloads.order_payload(self.state, order)
        for topic in topics:
            self.emit(topic, payload)

    def create_order(
        self,
        customer_id: int | None,
        total: Decimal,
        *,
        discount_codes: list[str] | None = None,
        paid: bool = False,
        currency: str | None = None,
        email: str | None = None,
    ) -> Order:
        """An order by a customer, or (`customer_id` None) a guest checkout, which names its
        buyer only by the `email` typed at checkout."""
        with self.state.lock:
            customer = self.customer(customer_id) if customer_id is not None else None
            now = now_utc()
            order = Order(
                id=self.state.next_order_id(),
                number=self.state.next_order_number(),
                customer_id=customer.id if customer else None,
                email=customer.email if customer else email,
                created_at=now,
                updated_at=now,
                processed_at=now,
                total_price=total,
                currency=currency or self.state.currency,
                financial_status="PAID" if paid else "PENDING",
                discount_codes=list(discount_codes or []),
            )
            self.state.add_order(order)
            payload = payloads.order_payload(self.state, order)
            self.emit("orders/create", payload)
            if paid:
                self.emit("orders/paid", payload)
            return order

    def mark_paid(self, order_id: int) -> Order:
        with self.state.lock:
            order = self.order(order_id)
            if order.financial_status != "PAID":
                order.financial_status = "PAID"
                self._order_changed(order, "orders/paid", "orders/updated")
            return order

    def fulfill(self, order_id: int, *, delivered: bool = False) -> Order:
        with self.state.lock:
            order = self.order(order_id)
            now = now_utc()
            order.fulfillments.append(
                Fulfillment(self.state.next_id(), now, now if delivered else None, "SUCCESS")
            )
            self._order_changed(order, "orders/fulfilled", "orders/updated")
            return order

    def mark_delivered(self, order_id: int) -> Order:
        with self.state.lock:
            order = self.order(order_id)
            pending = [f for f in order.fulfillments if f.delivered_at is None]
            if not pending:
                raise UserErrors([_error(["id"], "Order has no undelivered fulfillment")])
            pending[-1].delivered_at = now_utc()
            self._order_changed(order, "orders/updated")
            return order

    def refund(
        self, order_id: int, amount: Decimal | None = None, note: str | None = None
    ) -> Order:
        with self.state.lock:
            order = self.order(order_id)
            refundable = order.current_total
            value = refundable if amount is None else amount
            if value <= 0 or value > refundable:
                raise UserErrors([_error(["amount"], "Refund amount is invalid")])
            refund = Refund(self.state.next_id(), now_utc(), value, note)
            order.refunds.append(refund)
            order.financial_status = (
                "REFUNDED" if order.current_total == 0 else "PARTIALLY_REFUNDED"
            )
            self.state.touch_order(order, now_utc())
            self.emit("refunds/create", payloads.refund_payload(order, refund))
            self.emit("orders/updated", payloads.order_payload(self.state, order))
            return order

    def cancel(self, order_id: int) -> Order:
        with self.state.lock:
            order = self.order(order_id)
            if order.cancelled_at is None:
                order.cancelled_at = now_utc()
                self._order_changed(order, "orders/cancelled", "orders/updated")
            return order

    # -- app lifecycle and privacy ---------------------------------------------------

    def request_customer_data(self, customer_id: int) -> str | None:
        with self.state.lock:
            customer = self.customer(customer_id)
            order_ids = [o.id for o in self.state.orders_of(customer_id)]
            payload = payloads.data_request_payload(
                self.state, customer, self.state.next_id(), order_ids
            )
            return self.emit("customers/data_request", payload)

    def redact_customer(self, customer_id: int) -> str | None:
        with self.state.lock:
            customer = self.customer(customer_id)
            order_ids = [o.id for o in self.state.orders_of(customer_id)]
            return self.emit(
                "customers/redact",
                payloads.customer_redact_payload(self.state, customer, order_ids),
            )

    def redact_shop(self) -> str | None:
        with self.state.lock:
            return self.emit("shop/redact", payloads.shop_reference(self.state))

    def uninstall_app(self) -> str | None:
        """The merchant removes the app: notify, then revoke tokens and subscriptions."""
        with self.state.lock:
            event_id = self.emit("app/uninstalled", payloads.app_uninstalled_payload(self.state))
            self.state.access_tokens.clear()
            self.state.webhook_subscriptions.clear()
            self.state.installed = False
            return event_id
