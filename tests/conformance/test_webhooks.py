"""Webhooks under chaos: with at least 15 % of deliveries duplicated and at least 10 %
overtaken by later ones, core ends exactly equal to the store, each fact recorded once."""

from __future__ import annotations

import random

from tests.conformance import storm
from tests.conformance.connected import Connected


def test_duplicated_and_reordered_webhooks_leave_core_equal_to_the_store(
    imported: Connected,
) -> None:
    harness = imported.harness
    harness.configure_webhooks(
        duplicate_rate=0.3, reorder_window_seconds=0.4, seed=5, delay_seconds=0.05
    )
    before = harness.webhook_tally()
    ledger_before = imported.ledger_rows()

    facts = storm.run(storm.plan(imported, random.Random(11), storm.StormSize()))
    imported.settle(timeout=90)

    after = harness.webhook_tally()
    events = after.events - before.events
    assert events >= 60, "the storm should make the store send plenty of webhooks"
    assert after.duplicates - before.duplicates >= 0.15 * events
    assert after.out_of_order - before.out_of_order >= 0.10 * events
    assert imported.differences() == []
    # Every consent change in the store is one new fact: duplicates and stale deliveries
    # added nothing, and the ledger holds no fact twice.
    assert imported.ledger_rows() - ledger_before == facts > 0
    assert imported.duplicate_facts() == 0
