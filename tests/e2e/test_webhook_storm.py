"""The acceptance storm: bulk import, then a burst of mixed webhooks with duplicates and
out-of-order delivery; core must end exactly equal to the shop, with no duplicate facts."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from patronkit.adapters.shopify.simulator.actions import CustomerFields
from patronkit.core.store import tables
from patronkit.sync.importer import sync_shop
from tests.e2e.stack import Stack, differences, running_stack

CUSTOMERS = 5_000
TARGET_WEBHOOKS = 2_000


@pytest.fixture
def stack(database_url: str, tmp_path: Path, clean_db: object) -> Iterator[Stack]:
    with running_stack(database_url, tmp_path, customers=CUSTOMERS, workers=4, seed=3) as stack:
        yield stack


def ledger_rows(stack: Stack) -> int:
    with stack.runtime.engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(tables.consent_events)
        return int(connection.execute(query).scalar_one())


def storm(stack: Stack, rng: random.Random) -> int:
    """Act as the merchant in Shopify until TARGET_WEBHOOKS are emitted; returns how many
    consent facts the actions created."""
    actions = stack.sim.actions
    with stack.sim.state.lock:
        ids = sorted(stack.sim.state.customers)
    facts = 0
    while stack.sim.stats()["webhooks"]["events"] < TARGET_WEBHOOKS:
        roll = rng.random()
        customer_id = rng.choice(ids)
        with stack.sim.state.lock:
            customer = stack.sim.state.customers[customer_id]
            before = (customer.email_consent.marketing_state, customer.email_consent.opt_in_level)
            sms_before = customer.sms_consent and (
                customer.sms_consent.marketing_state,
                customer.sms_consent.opt_in_level,
            )
        if roll < 0.45 and customer.email:
            state = rng.choice(["SUBSCRIBED", "UNSUBSCRIBED", "PENDING"])
            level = rng.choice(["SINGLE_OPT_IN", "CONFIRMED_OPT_IN"])
            actions.set_email_consent(customer_id, state, level)
            facts += (state, level) != before
        elif roll < 0.60 and customer.phone:
            state = rng.choice(["SUBSCRIBED", "UNSUBSCRIBED"])
            actions.set_sms_consent(customer_id, state, "SINGLE_OPT_IN")
            facts += (state, "SINGLE_OPT_IN") != sms_before
        elif roll < 0.80:
            actions.update_customer(
                customer_id, CustomerFields(first_name=f"Renamed{rng.randint(1, 10**6)}")
            )
        elif roll < 0.90:
            new_id = actions.create_customer(
                CustomerFields(email=f"new{rng.randint(1, 10**9)}@example.org", first_name="New")
            ).id
            ids.append(new_id)
        else:
            order = actions.create_order(customer_id, Decimal(rng.randint(500, 20_000)) / 100)
            actions.mark_paid(order.id)
    return facts


def record_emissions(stack: Stack) -> list[str]:
    """Event ids in the order the shop emitted them."""
    emitted: list[str] = []
    emit = stack.sim.actions.emit

    def recording(topic: str, payload: dict[str, object]) -> str | None:
        event_id = emit(topic, payload)
        if event_id:
            emitted.append(event_id)
        return event_id

    stack.sim.actions.emit = recording  # type: ignore[method-assign]
    return emitted


def out_of_order_share(stack: Stack, emitted: list[str]) -> float:
    """Share of events whose first delivery reached us after that of a later event."""
    order = {event_id: index for index, event_id in enumerate(emitted)}
    seen: set[str] = set()
    late = newest = total = 0
    for record in stack.sim.shop.dispatcher.history:
        if record.event_id not in order or record.event_id in seen or not record.ok:
            continue
        seen.add(record.event_id)
        total += 1
        index = order[record.event_id]
        late += index < newest
        newest = max(newest, index)
    return late / total


@pytest.mark.slow
def test_bulk_import_then_a_storm_of_webhooks_leaves_core_equal_to_the_shop(stack: Stack) -> None:
    started = time.monotonic()
    stats = sync_shop(stack.runtime.sync, stack.merchant_id, stack.shop_id, full=True)
    assert stats.customers == CUSTOMERS
    stack.settle()
    assert differences(stack) == []
    facts_after_import = ledger_rows(stack)
    imported_in = time.monotonic() - started

    stack.sim.configure_webhooks(duplicate_rate=0.2, reorder_window_seconds=0.4, seed=5)
    emitted = record_emissions(stack)
    new_facts = storm(stack, random.Random(11))
    stack.settle(timeout=180)
    webhooks = stack.sim.stats()["webhooks"]
    assert webhooks["events"] >= TARGET_WEBHOOKS
    assert webhooks["duplicates_sent"] >= 0.15 * webhooks["events"]
    assert out_of_order_share(stack, emitted) >= 0.10

    # Webhooks carry whole-second times; two profile edits in one second can only be told
    # apart by reading the shop, which is what the scheduled reconcile does.
    sync_shop(stack.runtime.sync, stack.merchant_id, stack.shop_id)
    stack.settle()
    assert differences(stack) == []
    # Every consent change in the shop is exactly one fact in the ledger: duplicates and
    # echoes added nothing. (Same-second ties pushed back as corrections add one echo fact.)
    assert ledger_rows(stack) - facts_after_import >= new_facts
    assert ledger_rows(stack) - facts_after_import <= new_facts + webhooks["events"] // 100
    print(f"import {imported_in:.1f}s, webhooks {webhooks}")
