"""WooCommerce REST (wc/v3) payloads → core records: pure functions, no I/O.

Webhook bodies and API list items have the same shape (a webhook body is the REST
representation of the resource), so one mapper serves both.

Decisions (the "why" lives here so sync and tests can point at one place):

* Ids are WooCommerce's integers as decimal strings ("25").
* Times. Only the ``*_gmt`` fields are used: the others are in the site's time zone without an
  offset. ``*_gmt`` values carry no offset either (``2017-03-21T19:09:28``) and are UTC.
* Customers. ``email`` is the account's address; the phone lives only in ``billing.phone``.
  Names come from the account, else from the billing address (accounts made at checkout often
  hold names only there). ``updated_at`` is ``date_modified_gmt`` (``date_created_gmt`` for an
  account never modified). Consent comes from patronkit's meta entries (`consent_meta`).
* Orders. ``status`` maps to a financial status (`financial_status`). WooCommerce has no
  delivery date; ``date_completed_gmt`` (the order was fulfilled) is the fulfilment time. A
  guest order (``customer_id`` 0) names its buyer only by ``billing.email``: the order carries
  that address and no customer id, so sync matches it by email. Refunds in an order carry an
  amount but no time; the order's ``date_modified_gmt`` (the refund modified it, at or before
  that moment) stands in.
* Coupons are read later (referral rewards); their topics are IGNORED for now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patronkit.adapters.woocommerce.consent_meta import consents_from_meta
from patronkit.core.domain.order import FinancialStatus, Refund
from patronkit.core.storefront import ChangeKind, InboundChange, RemoteCustomer, RemoteOrder

_MAX_ID = 2**63 - 1


class InvalidPayload(ValueError):
    """A WooCommerce payload lacks a required field or holds a malformed value.
    ``str()`` names fields, never values (they may be personal data)."""


# -- field readers -----------------------------------------------------------------------------


def remote_id(value: object, resource: str) -> str:
    """Canonical id (positive integer as a decimal string) from an int or a numeric string."""
    if isinstance(value, bool):
        raise InvalidPayload(f"{resource} id is not an id")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 0 < value <= _MAX_ID:
        raise InvalidPayload(f"{resource} id is missing or not a positive integer")
    return str(value)


def parse_gmt(value: object, name: str) -> datetime:
    """An aware UTC datetime from a ``*_gmt`` field (no offset means UTC; one is honoured)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(f"{name} is missing or not a timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidPayload(f"{name} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _optional_gmt(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    return None if value in (None, "") else parse_gmt(value, name)


def parse_money(value: object, name: str) -> Decimal:
    """An exact amount from WooCommerce's money strings ("29.35"); floats are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidPayload(f"{name} is missing or not an amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidPayload(f"{name} is not an amount") from None
    if not amount.is_finite():
        raise InvalidPayload(f"{name} is not a finite amount")
    return amount


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not text")
    return value.strip() or None


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if value is None or value == []:  # PHP serializes an empty array as [], not {}
        return {}
    if not isinstance(value, Mapping):
        raise InvalidPayload(f"{name} is not an object")
    return value


def _require_object(payload: object, context: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidPayload(f"{context} payload is not an object")
    return payload


# -- customers ---------------------------------------------------------------------------------


def customer_from_rest(payload: Mapping[str, Any]) -> RemoteCustomer:
    """A customer resource (webhook body or list item) as a RemoteCustomer."""
    payload = _require_object(payload, "customer")
    billing = _object(payload, "billing")
    updated_at = _optional_gmt(payload, "date_modified_gmt") or _optional_gmt(
        payload, "date_created_gmt"
    )
    if updated_at is None:
        raise InvalidPayload("customer: date_modified_gmt and date_created_gmt are missing")
    return RemoteCustomer(
        remote_id=remote_id(payload.get("id"), "customer"),
        updated_at=updated_at,
        email=_text(payload, "email") or _text(billing, "email"),
        phone=_text(billing, "phone"),
        first_name=_text(payload, "first_name") or _text(billing, "first_name"),
        last_name=_text(payload, "last_name") or _text(billing, "last_name"),
        consents=consents_from_meta(payload.get("meta_data")),
    )


def changed_since(customer: RemoteCustomer, since: datetime) -> bool:
    """Whether the profile or any consent changed at or after ``since``.

    Consent times are checked on their own: a meta-only change may leave date_modified alone
    (woocommerce#27991), and reconcile must still see the new consent."""
    return customer.updated_at >= since or any(c.occurred_at >= since for c in customer.consents)


# -- orders --------------------------------------------------------------------------------------

_FINANCIAL: Mapping[str, FinancialStatus] = {
    "pending": FinancialStatus.PENDING,  # awaiting payment
    "on-hold": FinancialStatus.PENDING,  # awaiting confirmation of a manual payment
    "checkout-draft": FinancialStatus.PENDING,  # block checkout still in progress
    "processing": FinancialStatus.PAID,  # paid, not yet fulfilled
    "completed": FinancialStatus.PAID,  # paid and fulfilled
    "refunded": FinancialStatus.REFUNDED,
    # No money moved and none will: cancelled by the shop or shopper, or the payment failed
    # (a retried payment moves the order to processing, and that snapshot replaces this one).
    "cancelled": FinancialStatus.VOIDED,
    "failed": FinancialStatus.VOIDED,
}
_PAID = frozenset({"processing", "completed"})


def financial_status(status: object, total: Decimal, refunded: Decimal) -> FinancialStatus:
    """Core status for an order ``status``; statuses added by plugins are UNKNOWN.

    A paid order keeps its status through partial refunds; the refunds say what happened."""
    if not isinstance(status, str):
        return FinancialStatus.UNKNOWN
    status = status.strip().lower()
    if status in _PAID and refunded > 0:
        return FinancialStatus.REFUNDED if refunded >= total else FinancialStatus.PARTIALLY_REFUNDED
    return _FINANCIAL.get(status, FinancialStatus.UNKNOWN)


def order_from_rest(payload: Mapping[str, Any]) -> RemoteOrder:
    """An order resource (webhook body or list item) as a RemoteOrder."""
    payload = _require_object(payload, "order")
    created = _optional_gmt(payload, "date_created_gmt")
    if created is None:
        raise InvalidPayload("order: date_created_gmt is missing")
    updated = _optional_gmt(payload, "date_modified_gmt") or created
    total = parse_money(payload.get("total"), "total")
    if total < 0:
        raise InvalidPayload("order: total is negative")
    refunds = _refunds(payload.get("refunds"), updated)
    status = financial_status(
        payload.get("status"), total, sum((r.amount for r in refunds), Decimal(0))
    )
    customer_id = payload.get("customer_id")
    billing = _object(payload, "billing")
    currency = _text(payload, "currency")
    if currency is None:
        raise InvalidPayload("order: currency is missing")
    return RemoteOrder(
        remote_id=remote_id(payload.get("id"), "order"),
        updated_at=updated,
        placed_at=created,
        total=total,
        currency=currency.upper(),
        financial_status=status,
        # 0 (or absent) is a guest: only the billing address names the buyer.
        customer_remote_id=(
            None if customer_id in (None, 0, "0") else remote_id(customer_id, "customer")
        ),
        email=_text(billing, "email"),
        outstanding=total if status is FinancialStatus.PENDING else Decimal(0),
        discount_codes=_coupon_codes(payload.get("coupon_lines")),
        refunds=refunds,
        paid_at=_optional_gmt(payload, "date_paid_gmt"),
        fulfilled_at=_optional_gmt(payload, "date_completed_gmt"),
        # No cancellation date exists; the last modification is when it became cancelled.
        cancelled_at=updated if str(payload.get("status")).lower() == "cancelled" else None,
    )


def _refunds(value: object, when: datetime) -> tuple[Refund, ...]:
    if not isinstance(value, list):
        return ()
    refunds = []
    for item in value:
        if isinstance(item, Mapping):
            # Listed refund totals are negative ("-10.00"): the amount is the magnitude.
            amount = abs(parse_money(item.get("total"), "refund total"))
            refunds.append(Refund(amount=amount, created_at=when))
    return tuple(refunds)


def _coupon_codes(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    codes = (item.get("code") for item in value if isinstance(item, Mapping))
    return tuple(code.strip() for code in codes if isinstance(code, str) and code.strip())


# -- webhooks ------------------------------------------------------------------------------------


def changes_from_webhook(topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
    """What one verified webhook means for core. Topics we do not act on are IGNORED, not
    errors: a merchant may have pointed other webhooks at us, or an older app version may
    have subscribed to more."""
    resource, _, event = topic.partition(".")
    handler = _HANDLERS.get((resource, event))
    if handler is None:
        if resource == "coupon":
            return [InboundChange(ChangeKind.IGNORED, note="coupons are not read yet")]
        return [InboundChange(ChangeKind.IGNORED, note=f"unhandled topic {topic[:64]}")]
    return handler(_require_object(payload, topic[:64]))


def _customer_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    return [InboundChange(ChangeKind.CUSTOMER, customer=customer_from_rest(payload))]


def _customer_deleted_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    # Deleted resources arrive as {"id": N} only.
    identifier = remote_id(payload.get("id"), "deleted customer")
    return [InboundChange(ChangeKind.CUSTOMER_DELETED, remote_id=identifier)]


def _order_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    return [InboundChange(ChangeKind.ORDER, order=order_from_rest(payload))]


_HANDLERS: Mapping[tuple[str, str], Callable[[Mapping[str, Any]], list[InboundChange]]] = {
    ("customer", "created"): _customer_webhook,
    ("customer", "updated"): _customer_webhook,
    ("customer", "deleted"): _customer_deleted_webhook,
    ("order", "created"): _order_webhook,
    ("order", "updated"): _order_webhook,
    ("order", "restored"): _order_webhook,  # untrashed: the full order is sent again
}
