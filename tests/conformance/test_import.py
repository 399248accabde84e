"""The initial import (`patronkit import`): every customer the store holds reaches core,
linked to its record there, with the consent the store holds and its orders."""

from __future__ import annotations

from tests.conformance.connected import Connected


def test_import_brings_every_customer_with_the_stores_consent_and_links(store: Connected) -> None:
    seeded = store.harness.snapshot()
    consents = [c for customer in seeded.values() for c in customer.consents.values() if c]
    assert len({c.state for c in consents}) >= 3, "the seed should hold varied consents"
    assert store.core_customers() == {}  # installing imports nothing by itself

    stats = store.sync(full=True)
    store.settle()

    assert stats.customers == len(seeded)
    assert stats.orders == len(store.harness.orders()) > 0
    assert store.differences() == []
    # Each consent the store states is one fact in the ledger, and none went back to it.
    assert store.ledger_rows() == len(consents)
    assert store.outbox_rows() == 0


def test_importing_again_changes_nothing(store: Connected) -> None:
    store.sync(full=True)
    store.settle()
    ledger = store.ledger_rows()

    again = store.sync(full=True)
    store.settle()

    assert again.customers == len(store.harness.snapshot())
    assert (store.ledger_rows(), store.outbox_rows()) == (ledger, 0)
    assert store.differences() == []
