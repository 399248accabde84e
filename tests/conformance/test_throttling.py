"""Pushes under a store that answers 429 (with Retry-After) and bursts of 5xx: every push
lands eventually, and we never call while told to wait."""

from __future__ import annotations

from patronkit.core.domain.consent import Channel
from tests.conformance.connected import Connected

TARGETS = 20
THROTTLED = 3
ERRORS = (3, 2)  # of the platform's two commonest 5xx statuses


def test_every_push_lands_under_throttling_and_server_errors(imported: Connected) -> None:
    harness = imported.harness
    planned = {429: THROTTLED}
    harness.inject_throttling(THROTTLED, retry_after=1.0)
    for status, count in zip(harness.server_error_statuses(), ERRORS, strict=True):
        harness.inject_server_errors(status, count)
        planned[status] = count
    targets = imported.with_email(TARGETS)
    outbox_before = imported.outbox_rows()

    expected = {remote_id: imported.change_in_core(remote_id) for remote_id in targets}
    imported.settle(timeout=120)

    held = {remote_id: harness.consent(remote_id, Channel.EMAIL) for remote_id in targets}
    assert held == expected
    assert imported.outbox_rows(status="sent") - outbox_before == TARGETS
    assert harness.faults_served() == planned
    violations = harness.limit_violations()
    assert sum(violations.values()) == 0, violations
    assert imported.differences() == []
