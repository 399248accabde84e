"""Deterministic sample data: the same seed always yields the same shop."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .state import Customer, EmailConsent, Fulfillment, Order, Refund, ShopState, SmsConsent

# Timestamps are laid out before a fixed anchor so seeded data is identical across runs;
# anything changed while the simulator runs gets the real current time, which is later.
SEED_ANCHOR = datetime(2025, 6, 1, tzinfo=UTC)

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Charlotte", "Mateo", "Isabella", "Leo", "Ava", "Hugo", "Chloe", "Jonas", "Léa", "Finn",
    "Aisha", "Omar", "Yuki", "Hiro", "Priya", "Arjun", "Sofía", "Diego", "Ingrid", "Lars",
    "Zoë", "Malik", "Fatima", "Chen", "Mei", "Kofi", "Ama", "Niamh", "Seán", "Björn",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Müller", "Dubois", "Rossi", "Kowalski", "Nakamura",
    "Patel", "Okafor", "Andersson", "O'Brien", "van Dijk", "Novak", "Fernández", "Kim",
    "Nguyen", "Schmidt", "Martin", "Lefebvre", "Hansen", "Silva", "Cohen", "Ivanova",
    "Mensah", "Takahashi", "Jones", "Brown", "Wilson", "Moreau",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
# (country calling code, national significant number builder) giving valid-looking E.164.
PhoneBuilder = Callable[[random.Random], str]
PHONE_PLANS: tuple[tuple[str, PhoneBuilder], ...] = (
    ("+1", lambda r: f"{r.choice(('212', '415', '312', '617'))}555{r.randint(100, 199):04d}"),
    ("+44", lambda r: f"7700900{r.randint(0, 999):03d}"),
    ("+49", lambda r: f"15{r.randint(10, 79)}{r.randint(1000000, 9999999)}"),
    ("+33", lambda r: f"6{r.randint(10000000, 99999999)}"),
    ("+61", lambda r: f"491570{r.randint(100, 999)}"),
)
TAG_POOL = ("vip", "wholesale", "newsletter", "returning", "imported", "b2b")


def _email_consent(rng: random.Random, created: datetime) -> EmailConsent:
    roll = rng.random()
    changed = created + timedelta(minutes=rng.randint(0, 60 * 24 * 90))
    changed = min(changed, SEED_ANCHOR)
    if roll < 0.40:
        level = "CONFIRMED_OPT_IN" if rng.random() < 0.3 else "SINGLE_OPT_IN"
        return EmailConsent("SUBSCRIBED", level, changed)
    if roll < 0.75:
        return EmailConsent("NOT_SUBSCRIBED", "SINGLE_OPT_IN", None)
    if roll < 0.90:
        return EmailConsent("UNSUBSCRIBED", "SINGLE_OPT_IN", changed)
    return EmailConsent("PENDING", "CONFIRMED_OPT_IN", changed)


def _sms_consent(rng: random.Random, created: datetime) -> SmsConsent:
    roll = rng.random()
    changed = min(created + timedelta(minutes=rng.randint(0, 60 * 24 * 90)), SEED_ANCHOR)
    source = "SHOPIFY" if rng.random() < 0.6 else "OTHER"
    if roll < 0.25:
        return SmsConsent("SUBSCRIBED", "SINGLE_OPT_IN", changed, source)
    if roll < 0.85:
        return SmsConsent("NOT_SUBSCRIBED", "UNKNOWN", None, "OTHER")
    if roll < 0.95:
        return SmsConsent("UNSUBSCRIBED", "SINGLE_OPT_IN", changed, source)
    return SmsConsent("PENDING", "CONFIRMED_OPT_IN", changed, source)


def _slug(text: str) -> str:
    table = str.maketrans("éüöøåëóáíñ", "euooaeoain")
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())


def seed_customers(state: ShopState, count: int, rng: random.Random) -> list[Customer]:
    created: list[Customer] = []
    used_phones: set[str] = {c.phone for c in state.customers.values() if c.phone}
    for _ in range(count):
        customer_id = state.next_customer_id()
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        email = f"{_slug(first)}.{_slug(last)}.{customer_id % 100000}@{rng.choice(EMAIL_DOMAINS)}"
        phone: str | None = None
        if rng.random() < 0.75:
            code, national = rng.choice(PHONE_PLANS)
            phone = code + national(rng)
            if phone in used_phones:  # Shopify enforces unique phones per shop
                phone = None
            else:
                used_phones.add(phone)
        created_at = SEED_ANCHOR - timedelta(seconds=rng.randint(86_400, 2 * 365 * 86_400))
        updated_at = min(created_at + timedelta(seconds=rng.randint(0, 200 * 86_400)), SEED_ANCHOR)
        email_consent = _email_consent(rng, created_at)
        sms_consent = _sms_consent(rng, created_at) if phone else None
        sms_time = sms_consent.consent_updated_at if sms_consent else None
        for consent_time in (email_consent.consent_updated_at, sms_time):
            if consent_time is not None and consent_time > updated_at:
                updated_at = consent_time
        customer = Customer(
            id=customer_id,
            email=email,
            phone=phone,
            first_name=first,
            last_name=last,
            created_at=created_at,
            updated_at=updated_at,
            email_consent=email_consent,
            sms_consent=sms_consent,
            tags=sorted(rng.sample(TAG_POOL, k=rng.choice((0, 0, 1, 2)))),
            state=rng.choice(("DISABLED", "DISABLED", "ENABLED", "INVITED")),
        )
        state.add_customer(customer)
        created.append(customer)
    return created


def seed_orders(state: ShopState, count: int, rng: random.Random) -> list[Order]:
    customers = list(state.customers.values())
    orders: list[Order] = []
    if not customers:
        return orders
    for _ in range(count):
        customer = rng.choice(customers)
        processed = customer.created_at + timedelta(
            seconds=rng.randint(0, max(1, int((SEED_ANCHOR - customer.created_at).total_seconds())))
        )
        total = Decimal(rng.randint(900, 25_000)) / 100
        order = Order(
            id=state.next_order_id(),
            number=state.next_order_number(),
            customer_id=customer.id,
            email=customer.email,
            created_at=processed,
            updated_at=processed,
            processed_at=processed,
            total_price=total,
            currency=state.currency,
            financial_status="PAID" if rng.random() < 0.9 else "PENDING",
            discount_codes=["WELCOME10"] if rng.random() < 0.15 else [],
        )
        if order.financial_status == "PAID" and rng.random() < 0.8:
            shipped = processed + timedelta(hours=rng.randint(2, 72))
            delivered = shipped + timedelta(days=rng.randint(1, 6)) if rng.random() < 0.7 else None
            order.fulfillments.append(Fulfillment(state.next_id(), shipped, delivered, "SUCCESS"))
            order.updated_at = max(order.updated_at, delivered or shipped)
        if order.financial_status == "PAID" and rng.random() < 0.05:
            refund_at = processed + timedelta(days=rng.randint(3, 20))
            order.refunds.append(Refund(state.next_id(), refund_at, total))
            order.financial_status = "REFUNDED"
            order.updated_at = max(order.updated_at, refund_at)
        order.updated_at = min(order.updated_at, SEED_ANCHOR)
        state.add_order(order)
        orders.append(order)
    return orders
