"""Is core exactly what the store holds? Store views come from a harness; core is read back
through the repositories, for one connected shop."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.domain.consent import ConsentState
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import InvalidEmail, InvalidPhone
from patronkit.core.domain.values import normalize_email, normalize_phone
from patronkit.core.store import tables
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from tests.conformance.harness import StoreCustomer, StoreOrder

MAX_LINES = 20  # enough to see the pattern of a failure without drowning in it


def linked_customers(engine: sa.Engine, merchant_id: UUID, shop_id: UUID) -> dict[str, Customer]:
    """Core's customers linked to the shop, by their id there."""
    with SqlUnitOfWork(engine, read_only=True) as uow:
        found = {
            c.link_for(shop_id): c for c in uow.tenant(merchant_id).customers.linked_in(shop_id)
        }
    return {link.remote_id: customer for link, customer in found.items() if link is not None}


def core_orders(engine: sa.Engine, shop_id: UUID) -> dict[str, UUID | None]:
    """Core's orders from the shop: remote id → the core customer it is attributed to."""
    o = tables.orders.c
    with engine.connect() as connection:
        rows = connection.execute(sa.select(o.remote_id, o.customer_id).where(o.shop_id == shop_id))
        return {row.remote_id: row.customer_id for row in rows}


def _email(value: str | None) -> str | None:
    try:
        return normalize_email(value) if value else None
    except InvalidEmail:
        return None


def _phone(value: str | None) -> str | None:
    """What core keeps of a store's phone: E.164, or nothing for an impossible number."""
    try:
        return normalize_phone(value) if value else None
    except InvalidPhone:
        return None


def _name(value: str | None) -> str | None:
    return (value or "").strip() or None


def customer_differences(
    store: Mapping[str, StoreCustomer], core: Mapping[str, Customer], *, profiles: bool = True
) -> list[str]:
    """Every way core disagrees with the store about its customers (empty: equal)."""
    problems: list[str] = []
    if set(core) != set(store):
        missing = sorted(set(store) - set(core))[:5]
        extra = sorted(set(core) - set(store))[:5]
        problems.append(f"customers differ: missing in core {missing}, extra in core {extra}")
    for remote_id, theirs in sorted(store.items()):
        ours = core.get(remote_id)
        if ours is None:
            continue
        if profiles:
            mine = (ours.email, ours.phone, ours.first_name, ours.last_name)
            expected = (
                _email(theirs.email),
                _phone(theirs.phone),
                _name(theirs.first_name),
                _name(theirs.last_name),
            )
            if mine != expected:
                problems.append(f"{remote_id} profile: core {mine} != store {expected}")
        for channel, consent in theirs.consents.items():
            status = ours.consent(channel)
            held = (status.state, status.opt_in_level) if status else None
            if consent is None:
                # The store never asked: core may hold nothing, or "not subscribed".
                if held is not None and held[0] is not ConsentState.NOT_SUBSCRIBED:
                    problems.append(f"{remote_id} {channel}: core {held} but the store has none")
            elif held != (consent.state, consent.opt_in_level):
                expected_consent = (consent.state, consent.opt_in_level)
                problems.append(f"{remote_id} {channel}: core {held} != store {expected_consent}")
    return problems[:MAX_LINES]


def order_differences(
    store: Mapping[str, StoreOrder],
    core: Mapping[str, UUID | None],
    customers: Mapping[str, Customer],
) -> list[str]:
    """Every order the store has is in core, attributed to its buyer: the linked customer,
    or for a guest order the customer with that email, if core has one."""
    problems: list[str] = []
    if set(core) != set(store):
        missing = sorted(set(store) - set(core))[:5]
        extra = sorted(set(core) - set(store))[:5]
        problems.append(f"orders differ: missing in core {missing}, extra in core {extra}")
    by_email = {c.email: c.id for c in customers.values() if c.email}
    for remote_id, order in sorted(store.items()):
        if remote_id not in core:
            continue
        if order.customer_remote_id is not None:
            buyer = customers.get(order.customer_remote_id)
            expected = buyer.id if buyer else None
        else:
            email = _email(order.email)
            expected = by_email.get(email) if email else None
        if core[remote_id] != expected:
            problems.append(f"order {remote_id}: core buyer {core[remote_id]} != {expected}")
    return problems[:MAX_LINES]
