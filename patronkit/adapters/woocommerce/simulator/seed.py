"""Deterministic sample data: the same seed always yields the same store.

Seeded records existed before anyone connected, so seeding fires no webhooks. Some
realistic untidiness is included on purpose: users created without WooCommerce have no
date_modified (null), meta_data holds keys nobody asked for, and a share of guest orders
use the email address of a registered customer.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .state import (
    BILLING_FIELDS,
    SHIPPING_FIELDS,
    Customer,
    LineItem,
    MetaEntry,
    Order,
    Refund,
    StoreState,
    empty_address,
)

SEED_ANCHOR = datetime(2025, 6, 1, tzinfo=UTC)

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Charlotte", "Mateo", "Isabella", "Leo", "Ava", "Hugo", "Chloe", "Jonas", "Léa", "Finn",
    "Aisha", "Omar", "Yuki", "Hiro", "Priya", "Arjun", "Sofía", "Diego", "Ingrid", "Lars",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Müller", "Dubois", "Rossi", "Kowalski", "Nakamura",
    "Patel", "Okafor", "Andersson", "O'Brien", "van Dijk", "Novak", "Fernández", "Kim",
    "Nguyen", "Schmidt", "Martin", "Lefebvre", "Hansen", "Silva", "Cohen", "Ivanova",
)  # fmt: skip
CITIES = (
    ("Berlin", "", "10115", "DE"),
    ("München", "", "80331", "DE"),
    ("Paris", "", "75001", "FR"),
    ("Amsterdam", "", "1011", "NL"),
    ("San Francisco", "CA", "94103", "US"),
    ("London", "", "EC1A 1BB", "GB"),
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
PRODUCTS = (
    (101, "Beanie", Decimal("18.00")),
    (102, "Hoodie", Decimal("45.00")),
    (103, "T-Shirt", Decimal("18.00")),
    (104, "Cap", Decimal("16.00")),
    (105, "Sunglasses", Decimal("90.00")),
    (106, "Belt", Decimal("55.00")),
)
SEEDED_STATUSES = (
    ("completed", 0.55),
    ("processing", 0.15),
    ("pending", 0.08),
    ("on-hold", 0.05),
    ("cancelled", 0.07),
    ("refunded", 0.05),
    ("failed", 0.05),
)


def _slug(text: str) -> str:
    table = str.maketrans("éüöøåëóáíñ", "euooaeoain")
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())


def _phone(rng: random.Random) -> str:
    return (
        rng.choice(("+49 30 ", "+33 1 ", "+1 415 ", "+44 20 ")) + f"{rng.randint(0, 9999999):07d}"
    )


def seed_customers(state: StoreState, count: int, rng: random.Random) -> list[Customer]:
    created: list[Customer] = []
    for _ in range(count):
        customer_id = state.next_user_id()
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_slug(first)}.{_slug(last)}.{customer_id}@{rng.choice(EMAIL_DOMAINS)}"
        registered = SEED_ANCHOR - timedelta(minutes=rng.randint(60, 60 * 24 * 700))
        city, region, postcode, country = rng.choice(CITIES)
        billing = empty_address(BILLING_FIELDS)
        billing.update(
            first_name=first,
            last_name=last,
            address_1=f"{rng.randint(1, 200)} Market Street",
            city=city,
            state=region,
            postcode=postcode,
            country=country,
            email=email,
            phone=_phone(rng) if rng.random() < 0.6 else "",
        )
        shipping = empty_address(SHIPPING_FIELDS)
        shipping.update({k: billing[k] for k in SHIPPING_FIELDS if k in billing and k != "phone"})
        # Users added outside WooCommerce have no last_update until their first save.
        last_update = (
            None
            if rng.random() < 0.1
            else min(SEED_ANCHOR, registered + timedelta(minutes=rng.randint(0, 60 * 24 * 200)))
        )
        customer = Customer(
            id=customer_id,
            email=email,
            username=email.split("@", 1)[0],
            role="customer",
            date_created=registered,
            last_update=last_update,
            first_name=first,
            last_name=last,
            display_name=email.split("@", 1)[0],
            billing=billing,
            shipping=shipping,
        )
        if rng.random() < 0.5:
            active = int((SEED_ANCHOR - timedelta(days=rng.randint(0, 90))).timestamp())
            customer.meta.append(MetaEntry(state.next_meta_id(), "wc_last_active", str(active)))
        state.customers[customer.id] = customer
        created.append(customer)
    return created


def _pick_status(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for status, weight in SEEDED_STATUSES:
        total += weight
        if roll < total:
            return status
    return "completed"


def seed_orders(state: StoreState, count: int, rng: random.Random, currency: str) -> list[Order]:
    registered = [c for c in state.customers.values() if c.role == "customer"]
    created: list[Order] = []
    for _ in range(count):
        guest = not registered or rng.random() < 0.3
        owner = None if guest else rng.choice(registered)
        billing = empty_address(BILLING_FIELDS)
        if owner is not None:
            billing.update(owner.billing)
        elif registered and rng.random() < 0.4:
            # A registered customer checking out as a guest: only the email links them.
            billing["email"] = rng.choice(registered).email
        else:
            name = rng.choice(FIRST_NAMES)
            billing.update(
                first_name=name,
                last_name=rng.choice(LAST_NAMES),
                email=f"{_slug(name)}.guest{rng.randint(1, 99999)}@{rng.choice(EMAIL_DOMAINS)}",
            )
        created_at = SEED_ANCHOR - timedelta(minutes=rng.randint(60, 60 * 24 * 365))
        status = _pick_status(rng)
        items = []
        for product_id, name, price in rng.sample(PRODUCTS, rng.randint(1, 3)):
            quantity = rng.randint(1, 3)
            total = price * quantity
            items.append(LineItem(state.next_item_id(), name, product_id, quantity, total, total))
        paid = status in ("processing", "completed", "refunded")
        completed = status in ("completed", "refunded")
        order = Order(
            id=state.next_post_id(),
            status=status,
            currency=currency,
            customer_id=owner.id if owner else 0,
            billing=billing,
            shipping=empty_address(SHIPPING_FIELDS),
            date_created=created_at,
            date_modified=created_at + timedelta(minutes=rng.randint(1, 60 * 24 * 3)),
            order_key=f"wc_order_{rng.getrandbits(52):013x}",
            line_items=items,
            date_paid=created_at + timedelta(minutes=2) if paid else None,
            date_completed=created_at + timedelta(days=2) if completed else None,
            payment_method="stripe" if paid else "",
            payment_method_title="Credit card" if paid else "",
        )
        if status == "refunded":
            refunded_at = created_at + timedelta(days=5)
            order.refunds.append(Refund(state.next_post_id(), order.total, "", refunded_at))
        if owner is not None and paid:
            owner.is_paying_customer = True
        state.orders[order.id] = order
        created.append(order)
    return created
