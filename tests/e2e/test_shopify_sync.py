"""Shopify ↔ core end to end, over loopback against the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from patronkit.sync.importer import sync_shop
from tests.e2e.stack import Stack, differences, running_stack


@pytest.fixture
def stack(database_url: str, tmp_path: Path, clean_db: object) -> Iterator[Stack]:
    with running_stack(database_url, tmp_path, customers=150) as stack:
        yield stack


def test_import_then_a_change_in_the_shop_reaches_core(stack: Stack) -> None:
    stats = sync_shop(stack.runtime.sync, stack.merchant_id, stack.shop_id, full=True)
    assert stats.customers == 150
    stack.settle()
    assert differences(stack) == []

    with stack.sim.state.lock:
        first = min(stack.sim.state.customers)
    stack.sim.actions.set_email_consent(first, "UNSUBSCRIBED")
    stack.settle()
    assert differences(stack) == []
    customer = stack.customer_by_remote(first)
    assert customer is not None
    status = customer.consent("email")
    assert status is not None and status.state.value == "unsubscribed"
