"""Reconcile (`patronkit reconcile`) heals what webhooks never told us: a consent written
the way that fires no webhook, and a profile edit and a new customer while webhooks were off.
Running it again finds nothing more to do."""

from __future__ import annotations

from patronkit.core.domain.consent import Channel, OptInLevel
from tests.conformance.connected import Connected, current_state, flipped


def test_reconcile_heals_what_webhooks_missed(imported: Connected) -> None:
    harness = imported.harness
    silent, edited = imported.with_email(2)
    harness.set_consent(
        silent,
        Channel.EMAIL,
        flipped(current_state(imported, silent, Channel.EMAIL)),
        OptInLevel.SINGLE,
        notify=False,
    )
    with harness.webhooks_paused():
        harness.edit_profile(edited, first_name="Unannounced")
        created = harness.create_customer("unannounced@example.org", "Never", "Announced")
    imported.settle()
    missed = imported.differences()
    assert len(missed) == 3, missed  # the test can tell: core has not heard of any of them
    for remote_id in (silent, edited, created):
        assert any(remote_id in line for line in missed), (remote_id, missed)
    ledger_before = imported.ledger_rows()

    imported.sync()
    imported.settle()

    assert imported.differences() == []
    assert imported.ledger_rows() - ledger_before == 1  # the silent consent, once
    outbox = imported.outbox_rows()
    imported.sync()
    imported.settle()
    assert (imported.ledger_rows() - ledger_before, imported.outbox_rows()) == (1, outbox)
