"""Shopify ↔ core records: pure functions, no I/O.

Decisions (the "why" lives here so sync and tests can point at one place):

* Ids. The canonical remote id is Shopify's numeric id as a decimal string ("7400000000001").
  Webhooks (the hot path) carry numbers, GraphQL carries ``gid://shopify/Customer/N``;
  `remote_id` accepts both and `to_gid` turns it back for GraphQL. Numbers are kept as
  strings because Shopify ids exceed 2**53 (JavaScript-safe) and core keys are strings.
* States. SUBSCRIBED, UNSUBSCRIBED, PENDING and NOT_SUBSCRIBED map one to one. REDACTED
  (the person's data was erased on request) maps to UNSUBSCRIBED: an erasure request is at
  least a withdrawal, and privacy errs towards not contacting. INVALID (the address bounced
  or is malformed) says nothing about consent, only about deliverability, so the channel is
  left out ("not said here") rather than turned into a consent fact.
* Webhook payloads use lower-case strings ("subscribed", "single_opt_in"); GraphQL uses
  upper-case enums. Both are accepted everywhere.
* A missing consent timestamp. Shopify leaves ``consent_updated_at`` null while a state has
  never been set explicitly. For NOT_SUBSCRIBED (the default every customer starts in) the
  channel is left out: an untouched default is not an explicit action and must not outrank
  a real consent recorded elsewhere (core's rule is "newest explicit action wins"). For any
  other state (legacy data from before consent timestamps existed) the customer's
  ``updated_at`` stands in: it is the latest moment the store vouches the state held, and it
  is stable across re-reads, so an import and a reconcile produce the same fact. Consent
  webhooks carry no customer timestamps, so such a payload is refused (`InvalidPayload`);
  the next reconcile reads the same state through GraphQL.
* Pushing NOT_SUBSCRIBED. Shopify's input accepts only SUBSCRIBED/UNSUBSCRIBED/PENDING. Core's
  NOT_SUBSCRIBED means "do not market", which Shopify can only express as UNSUBSCRIBED; the
  gateway skips the push when the store already does not market (see `ShopifyGateway`).
* consentUpdatedAt is ``push.occurred_at`` floored to whole seconds: Shopify stores seconds,
  so the echo webhook carries exactly what we sent, and a floored time can never be "in the
  future" for Shopify (which it refuses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.order import FinancialStatus, Refund
from patronkit.core.storefront import (
    ChangeKind,
    ConsentPush,
    InboundChange,
    RemoteConsent,
    RemoteCustomer,
    RemoteOrder,
)

GID_PREFIX = "gid://shopify/"
_NUMERIC = re.compile(r"^[1-9][0-9]{0,19}$")

SUPPORTED_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})


class InvalidPayload(ValueError):
    """A Shopify payload or node lacks a required field or holds a malformed value."""


# -- ids -----------------------------------------------------------------------------------


def remote_id(value: object, resource: str = "Customer") -> str:
    """Canonical remote id (numeric string) from a number, a numeric string or a gid."""
    if isinstance(value, bool):
        raise InvalidPayload(f"{resource} id is not an id")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith(GID_PREFIX):
            kind, _, rest = text[len(GID_PREFIX) :].partition("/")
            if kind != resource:
                raise InvalidPayload(f"expected a {resource} gid, got a {kind or 'bad'} gid")
            text = rest.split("?", 1)[0]
    else:
        raise InvalidPayload(f"{resource} id is missing or not an id")
    if not _NUMERIC.match(text):
        raise InvalidPayload(f"{resource} id is not numeric")
    return text


def to_gid(value: str, resource: str = "Customer") -> str:
    """``gid://shopify/{resource}/N`` for a canonical id (or a gid of that resource)."""
    return f"{GID_PREFIX}{resource}/{remote_id(value, resource)}"


# -- field readers ---------------------------------------------------------------------------


def _field(data: Mapping[str, Any], name: str, context: str) -> Any:
    if not isinstance(data, Mapping):
        raise InvalidPayload(f"{context} is not an object")
    if name not in data or data[name] is None:
        raise InvalidPayload(f"{context}: {name} is missing")
    return data[name]


def _object(data: Mapping[str, Any], name: str, context: str) -> Mapping[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidPayload(f"{context}: {name} is not an object")
    return value


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is not a string")
    return value.strip() or None


def parse_time(value: object, name: str) -> datetime:
    """An aware datetime from Shopify's ISO 8601 ("...Z" in GraphQL, "...-05:00" in REST)."""
    if not isinstance(value, str):
        raise InvalidPayload(f"{name} is missing or not a timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidPayload(f"{name} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidPayload(f"{name} has no time zone")
    return parsed


def _optional_time(value: object, name: str) -> datetime | None:
    return None if value is None else parse_time(value, name)


def parse_money(value: object, name: str) -> Decimal:
    """An exact amount from Shopify's money strings ("25.00", "129.9"); floats are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidPayload(f"{name} is missing or not an amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidPayload(f"{name} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidPayload(f"{name} must be a finite amount of zero or more")
    return amount


# -- consent states --------------------------------------------------------------------------

_STATES: Mapping[str, ConsentState | None] = {
    "SUBSCRIBED": ConsentState.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
    "PENDING": ConsentState.PENDING,
    "NOT_SUBSCRIBED": ConsentState.NOT_SUBSCRIBED,
    "REDACTED": ConsentState.UNSUBSCRIBED,  # erased on request: never market again
    "INVALID": None,  # deliverability, not consent: leave the channel out
}
_LEVELS: Mapping[str, OptInLevel] = {
    "SINGLE_OPT_IN": OptInLevel.SINGLE,
    "CONFIRMED_OPT_IN": OptInLevel.CONFIRMED,
    "UNKNOWN": OptInLevel.UNKNOWN,
}
_LEVELS_OUT: Mapping[OptInLevel, str] = {level: name for name, level in _LEVELS.items()}
# Shopify's consent input takes only these; NOT_SUBSCRIBED is expressed as UNSUBSCRIBED.
_STATES_OUT: Mapping[ConsentState, str] = {
    ConsentState.SUBSCRIBED: "SUBSCRIBED",
    ConsentState.UNSUBSCRIBED: "UNSUBSCRIBED",
    ConsentState.PENDING: "PENDING",
    ConsentState.NOT_SUBSCRIBED: "UNSUBSCRIBED",
}


def consent_state(value: object) -> ConsentState | None:
    """Core state for a Shopify marketing state in either casing; None for INVALID."""
    if not isinstance(value, str) or value.upper() not in _STATES:
        raise InvalidPayload("unknown marketing state")
    return _STATES[value.upper()]


def opt_in_level(value: object) -> OptInLevel:
    """Core opt-in level for Shopify's level in either casing; null means UNKNOWN."""
    if value is None:
        return OptInLevel.UNKNOWN
    if not isinstance(value, str) or value.upper() not in _LEVELS:
        raise InvalidPayload("unknown marketing opt-in level")
    return _LEVELS[value.upper()]


def is_marketable(value: object) -> bool:
    """Whether a Shopify marketing state lets the store send marketing (either casing)."""
    return isinstance(value, str) and value.upper() in ("SUBSCRIBED", "PENDING")


def consent_from(
    channel: Channel,
    state: object,
    level: object,
    updated_at: object,
    *,
    fallback_time: datetime | None,
) -> RemoteConsent | None:
    """One channel's consent, or None when the store said nothing explicit (module doc)."""
    core_state = consent_state(state)
    if core_state is None:
        return None
    when = _optional_time(updated_at, f"{channel.value} consent_updated_at")
    if when is None:
        if core_state is ConsentState.NOT_SUBSCRIBED:
            return None
        if fallback_time is None:
            raise InvalidPayload(f"{channel.value} consent has a state but no timestamp")
        when = fallback_time
    return RemoteConsent(channel, core_state, opt_in_level(level), when)


# -- webhooks (REST JSON, API 2026-10) -------------------------------------------------------


def changes_from_webhook(topic: str, payload: Mapping[str, Any]) -> list[InboundChange]:
    """What one verified webhook means for core. Unknown topics are IGNORED, not errors:
    Shopify may still deliver a topic an older version of the app subscribed to."""
    if not isinstance(payload, Mapping):
        raise InvalidPayload(f"{topic}: payload is not an object")
    handler = _WEBHOOK_HANDLERS.get(topic)
    if handler is None and topic.startswith("orders/"):
        handler = _order_webhook
    if handler is None:
        return [InboundChange(ChangeKind.IGNORED, note=f"unhandled topic {topic}")]
    return handler(payload)


def _customer_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    # Since 2025-01 customers/* payloads carry no consent: profile only.
    customer = RemoteCustomer(
        remote_id=remote_id(_field(payload, "id", "customer"), "Customer"),
        updated_at=parse_time(_field(payload, "updated_at", "customer"), "updated_at"),
        email=_text(payload, "email"),
        phone=_text(payload, "phone"),
        first_name=_text(payload, "first_name"),
        last_name=_text(payload, "last_name"),
    )
    return [InboundChange(ChangeKind.CUSTOMER, customer=customer)]


def _consent_only_change(
    customer_id: object, channel: Channel, consent_data: Mapping[str, Any] | None, **contact: Any
) -> list[InboundChange]:
    context = f"{channel.value} consent"
    if consent_data is None:
        raise InvalidPayload(f"{context} is missing")
    consent = consent_from(
        channel,
        _field(consent_data, "state", context),
        consent_data.get("opt_in_level"),
        consent_data.get("consent_updated_at"),
        fallback_time=None,  # these payloads carry no customer timestamps
    )
    identifier = remote_id(customer_id, "Customer")
    if consent is None:
        return [
            InboundChange(
                ChangeKind.IGNORED,
                remote_id=identifier,
                note=f"{channel.value} consent carries no explicit state",
            )
        ]
    customer = RemoteCustomer(
        remote_id=identifier,
        # The payload has no customer updated_at; the consent change is the update it reports.
        updated_at=consent.occurred_at,
        consents=(consent,),
        profile_included=False,
        **contact,
    )
    return [InboundChange(ChangeKind.CUSTOMER, customer=customer)]


def _email_consent_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    return _consent_only_change(
        _field(payload, "customer_id", "email consent"),
        Channel.EMAIL,
        _object(payload, "email_marketing_consent", "email consent"),
        email=_text(payload, "email_address"),
    )


def _sms_consent_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    return _consent_only_change(
        _field(payload, "id", "sms consent"),
        Channel.SMS,
        _object(payload, "sms_marketing_consent", "sms consent"),
        phone=_text(payload, "phone"),
    )


def _customer_deleted_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    identifier = remote_id(_field(payload, "id", "deleted customer"), "Customer")
    return [InboundChange(ChangeKind.CUSTOMER_DELETED, remote_id=identifier)]


def _order_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    return [InboundChange(ChangeKind.ORDER, order=order_from_rest(payload))]


def _refund_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    # A refund alone cannot rebuild the order snapshot (totals, status), and the port has no
    # "refetch this order" change yet. Shopify also sends orders/updated for every refund,
    # which carries the full order, so nothing is lost by ignoring this one.
    order_id = remote_id(_field(payload, "order_id", "refund"), "Order")
    return [
        InboundChange(
            ChangeKind.IGNORED,
            remote_id=order_id,
            note="refund only; the order arrives through orders/updated",
        )
    ]


def _uninstalled_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    shop_id = payload.get("id")
    return [
        InboundChange(
            ChangeKind.UNINSTALLED,
            remote_id=remote_id(shop_id, "Shop") if shop_id is not None else None,
        )
    ]


def _privacy_subject(payload: Mapping[str, Any], context: str) -> tuple[str | None, str | None]:
    subject = _object(payload, "customer", context) or {}
    raw_id = subject.get("id")
    identifier = remote_id(raw_id, "Customer") if raw_id is not None else None
    email = _text(subject, "email")
    if identifier is None and email is None:
        raise InvalidPayload(f"{context}: names neither a customer id nor an email")
    return identifier, email


def _request_reference(payload: Mapping[str, Any], context: str) -> str | None:
    request = _object(payload, "data_request", context)
    if request is None or request.get("id") is None:
        return None
    return str(request["id"])


def _customer_redact_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    identifier, email = _privacy_subject(payload, "customers/redact")
    orders = payload.get("orders_to_redact") or []
    return [
        InboundChange(
            ChangeKind.REDACT_CUSTOMER,
            remote_id=identifier,
            email=email,
            reference=_request_reference(payload, "customers/redact"),
            note=f"orders_to_redact={len(orders) if isinstance(orders, list) else 0}",
        )
    ]


def _data_request_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    identifier, email = _privacy_subject(payload, "customers/data_request")
    return [
        InboundChange(
            ChangeKind.DATA_REQUEST,
            remote_id=identifier,
            email=email,
            reference=_request_reference(payload, "customers/data_request"),
        )
    ]


def _shop_redact_webhook(payload: Mapping[str, Any]) -> list[InboundChange]:
    shop_id = _field(payload, "shop_id", "shop/redact")
    return [InboundChange(ChangeKind.REDACT_SHOP, remote_id=remote_id(shop_id, "Shop"))]


_WEBHOOK_HANDLERS: Mapping[str, Callable[[Mapping[str, Any]], list[InboundChange]]] = {
    "customers/create": _customer_webhook,
    "customers/update": _customer_webhook,
    "customers/delete": _customer_deleted_webhook,
    "customers_email_marketing_consent/update": _email_consent_webhook,
    "customers_marketing_consent/update": _sms_consent_webhook,
    "refunds/create": _refund_webhook,
    "app/uninstalled": _uninstalled_webhook,
    "customers/redact": _customer_redact_webhook,
    "customers/data_request": _data_request_webhook,
    "shop/redact": _shop_redact_webhook,
}


# -- orders ----------------------------------------------------------------------------------

_FINANCIAL: Mapping[str, FinancialStatus] = {
    "PENDING": FinancialStatus.PENDING,
    "AUTHORIZED": FinancialStatus.AUTHORIZED,
    "PARTIALLY_PAID": FinancialStatus.PARTIALLY_PAID,
    "PAID": FinancialStatus.PAID,
    "PARTIALLY_REFUNDED": FinancialStatus.PARTIALLY_REFUNDED,
    "REFUNDED": FinancialStatus.REFUNDED,
    "VOIDED": FinancialStatus.VOIDED,
    # The authorization lapsed uncaptured: no money moved and none will, like a void.
    "EXPIRED": FinancialStatus.VOIDED,
}


def financial_status(value: object) -> FinancialStatus:
    """Core status for displayFinancialStatus / REST financial_status (either casing)."""
    if not isinstance(value, str):
        return FinancialStatus.UNKNOWN
    return _FINANCIAL.get(value.upper(), FinancialStatus.UNKNOWN)


def _fulfillment_times(
    fulfillments: object, delivered_of: Callable[[Mapping[str, Any]], object]
) -> tuple[datetime | None, datetime | None]:
    """(first successful fulfilment, last delivery among them)."""
    if not isinstance(fulfillments, list):
        return None, None
    fulfilled: list[datetime] = []
    delivered: list[datetime] = []
    for item in fulfillments:
        if not isinstance(item, Mapping) or str(item.get("status", "")).upper() != "SUCCESS":
            continue
        fulfilled.append(parse_time(item.get("createdAt", item.get("created_at")), "fulfilled"))
        when = delivered_of(item)
        if when is not None:
            delivered.append(parse_time(when, "delivered"))
    return (min(fulfilled) if fulfilled else None, max(delivered) if delivered else None)


def _rest_delivered_at(item: Mapping[str, Any]) -> object:
    # REST fulfilments have no delivered_at; shipment_status turns "delivered" with the
    # fulfilment's last update, the closest time the payload offers.
    return item.get("updated_at") if item.get("shipment_status") == "delivered" else None


def _rest_refund(refund: Mapping[str, Any]) -> Refund:
    amount = Decimal(0)
    for transaction in refund.get("transactions") or []:
        if (
            isinstance(transaction, Mapping)
            and transaction.get("kind") == "refund"
            and transaction.get("status") == "success"
        ):
            amount += parse_money(transaction.get("amount"), "refund amount")
    return Refund(amount=amount, created_at=parse_time(refund.get("created_at"), "refund"))


def order_from_rest(payload: Mapping[str, Any]) -> RemoteOrder:
    """An orders/* webhook payload (REST Order) as a RemoteOrder."""
    context = "order"
    created = parse_time(_field(payload, "created_at", context), "created_at")
    customer = _object(payload, "customer", context)
    fulfilled_at, delivered_at = _fulfillment_times(payload.get("fulfillments"), _rest_delivered_at)
    refunds = payload.get("refunds") or []
    return RemoteOrder(
        remote_id=remote_id(_field(payload, "id", context), "Order"),
        updated_at=parse_time(_field(payload, "updated_at", context), "updated_at"),
        placed_at=_optional_time(payload.get("processed_at"), "processed_at") or created,
        total=parse_money(_field(payload, "total_price", context), "total_price"),
        currency=str(_field(payload, "currency", context)),
        financial_status=financial_status(payload.get("financial_status")),
        customer_remote_id=(
            remote_id(customer["id"], "Customer") if customer and customer.get("id") else None
        ),
        email=_text(payload, "email"),
        outstanding=parse_money(payload.get("total_outstanding") or "0", "total_outstanding"),
        discount_codes=_codes(
            item.get("code") for item in payload.get("discount_codes") or [] if item
        ),
        refunds=tuple(_rest_refund(r) for r in refunds if isinstance(r, Mapping)),
        fulfilled_at=fulfilled_at,
        delivered_at=delivered_at,
        cancelled_at=_optional_time(payload.get("cancelled_at"), "cancelled_at"),
    )


def _codes(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if isinstance(v, str) and v.strip())


def _shop_money(node: Mapping[str, Any], name: str) -> tuple[Decimal, str | None]:
    bag = _object(node, name, "order")
    money = _object(bag, "shopMoney", name) if bag is not None else None
    if money is None:
        raise InvalidPayload(f"order: {name} is missing")
    currency = money.get("currencyCode")
    return parse_money(money.get("amount"), name), currency if isinstance(currency, str) else None


def order_from_graphql(node: Mapping[str, Any]) -> RemoteOrder:
    """A GraphQL Order node (`queries.ORDER_FIELDS`, page or bulk line) as a RemoteOrder."""
    context = "order"
    total, currency = _shop_money(node, "totalPriceSet")
    outstanding = (
        _shop_money(node, "totalOutstandingSet")[0] if node.get("totalOutstandingSet") else 0
    )
    customer = _object(node, "customer", context)
    created = parse_time(_field(node, "createdAt", context), "createdAt")
    fulfilled_at, delivered_at = _fulfillment_times(
        node.get("fulfillments"), lambda item: item.get("deliveredAt")
    )
    refunds: list[Refund] = []
    for refund in node.get("refunds") or []:
        if isinstance(refund, Mapping):
            amount, _ = _shop_money(refund, "totalRefundedSet")
            refunds.append(Refund(amount, parse_time(refund.get("createdAt"), "refund")))
    return RemoteOrder(
        remote_id=remote_id(_field(node, "id", context), "Order"),
        updated_at=parse_time(_field(node, "updatedAt", context), "updatedAt"),
        placed_at=_optional_time(node.get("processedAt"), "processedAt") or created,
        total=total,
        currency=currency or str(_field(node, "currencyCode", context)),
        financial_status=financial_status(node.get("displayFinancialStatus")),
        customer_remote_id=(
            remote_id(customer["id"], "Customer") if customer and customer.get("id") else None
        ),
        email=_text(node, "email"),
        outstanding=Decimal(outstanding),
        discount_codes=_codes(node.get("discountCodes") or []),
        refunds=tuple(refunds),
        fulfilled_at=fulfilled_at,
        delivered_at=delivered_at,
        cancelled_at=_optional_time(node.get("cancelledAt"), "cancelledAt"),
    )


# -- customers (GraphQL) ---------------------------------------------------------------------


def customer_from_graphql(node: Mapping[str, Any]) -> RemoteCustomer:
    """A GraphQL Customer node (`queries.CUSTOMER_FIELDS`, page or bulk line).

    Reads ``email``/``phone``/``*MarketingConsent`` (deprecated since 2025-04 but still
    served) and, when selected, their replacements ``defaultEmailAddress`` /
    ``defaultPhoneNumber``, which win.
    """
    context = "customer"
    updated_at = parse_time(_field(node, "updatedAt", context), "updatedAt")
    email = _text(node, "email")
    phone = _text(node, "phone")
    email_consent = _object(node, "emailMarketingConsent", context)
    sms_consent = _object(node, "smsMarketingConsent", context)
    consents: list[RemoteConsent] = []

    default_email = _object(node, "defaultEmailAddress", context)
    if default_email is not None:
        email = _text(default_email, "emailAddress") or email
        if "marketingState" in default_email:
            email_consent = {
                "marketingState": default_email.get("marketingState"),
                "marketingOptInLevel": default_email.get("marketingOptInLevel"),
                "consentUpdatedAt": default_email.get("marketingUpdatedAt"),
            }
    default_phone = _object(node, "defaultPhoneNumber", context)
    if default_phone is not None:
        phone = _text(default_phone, "phoneNumber") or phone
        if "marketingState" in default_phone:
            sms_consent = {
                "marketingState": default_phone.get("marketingState"),
                "marketingOptInLevel": default_phone.get("marketingOptInLevel"),
                "consentUpdatedAt": default_phone.get("marketingUpdatedAt"),
            }

    for channel, data in ((Channel.EMAIL, email_consent), (Channel.SMS, sms_consent)):
        if data is None:
            continue
        consent = consent_from(
            channel,
            _field(data, "marketingState", f"{channel.value} consent"),
            data.get("marketingOptInLevel"),
            data.get("consentUpdatedAt"),
            fallback_time=updated_at,
        )
        if consent is not None:
            consents.append(consent)
    return RemoteCustomer(
        remote_id=remote_id(_field(node, "id", context), "Customer"),
        updated_at=updated_at,
        email=email,
        phone=phone,
        first_name=_text(node, "firstName"),
        last_name=_text(node, "lastName"),
        consents=tuple(consents),
    )


# -- consent push ----------------------------------------------------------------------------

CONSENT_INPUT_KEYS: Mapping[Channel, str] = {
    Channel.EMAIL: "emailMarketingConsent",
    Channel.SMS: "smsMarketingConsent",
}


def shopify_time(value: datetime) -> str:
    """ISO 8601 in UTC, floored to whole seconds (Shopify's precision)."""
    if value.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def consent_update_variables(push: ConsentPush) -> dict[str, Any]:
    """Variables for customerEmailMarketingConsentUpdate / customerSmsMarketingConsentUpdate."""
    key = CONSENT_INPUT_KEYS.get(push.channel)
    if key is None:
        raise ValueError(f"Shopify has no {push.channel.value} marketing consent")
    return {
        "input": {
            "customerId": to_gid(push.customer_remote_id, "Customer"),
            key: {
                "marketingState": _STATES_OUT[push.state],
                "marketingOptInLevel": _LEVELS_OUT[push.opt_in_level],
                "consentUpdatedAt": shopify_time(push.occurred_at),
            },
        }
    }


def user_error_summary(errors: Sequence[Mapping[str, Any]]) -> str:
    """Codes and fields of GraphQL userErrors, without messages (which may echo input)."""
    parts = []
    for error in errors:
        field = error.get("field")
        where = ".".join(str(f) for f in field) if isinstance(field, list) else "-"
        parts.append(f"{error.get('code') or 'NO_CODE'}@{where}")
    return ", ".join(parts) or "no details"
