"""Core → store: a consent changed in patronkit reaches the store, and the store's echo of
our own write is recognised as the same fact: it records nothing and pushes nothing."""

from __future__ import annotations

from patronkit.core.domain.consent import Channel
from tests.conformance.connected import Connected

TARGETS = 8


def test_a_consent_changed_in_core_reaches_the_store_and_its_echo_is_silent(
    imported: Connected,
) -> None:
    targets = imported.with_email(TARGETS)
    ledger_before, outbox_before = imported.ledger_rows(), imported.outbox_rows()
    applied_before = imported.inbox_rows(status="applied")

    expected = {remote_id: imported.change_in_core(remote_id) for remote_id in targets}
    imported.settle()

    held = {remote_id: imported.harness.consent(remote_id, Channel.EMAIL) for remote_id in targets}
    assert held == expected
    # One push per change and one fact per change: the echoes (applied below) added neither.
    assert imported.outbox_rows() - outbox_before == TARGETS
    assert imported.outbox_rows(status="sent") - outbox_before == TARGETS
    assert imported.ledger_rows() - ledger_before == TARGETS
    if imported.harness.sends_webhooks:
        assert imported.inbox_rows(status="applied") - applied_before >= TARGETS
    assert imported.differences() == []
