"""A worker process SIGKILLed mid-batch, twice (once while applying webhooks, once right after
the store accepted a push), and restarted: nothing is lost and nothing is applied twice.

The worker is a real `patronkit worker` process with the platform's real gateway, talking to
the simulator (see stalling.py for how the kill lands mid-job without timing). The jobs a
killed worker took from the queue die with it; the restarted worker drains the queue and a
sweep, run here with a clock past the grace period, hands out what is still pending.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from patronkit.core.domain.consent import Channel, OptInLevel
from patronkit.sync.tables import inbox
from tests.conformance import stalling
from tests.conformance.connected import (
    CUSTOMERS,
    ORDERS,
    Connected,
    connected_store,
    current_state,
    flipped,
)
from tests.e2e.app import wait_for
from tests.worker_process import WorkerProcess, sweep_past_grace

CHANGES = 30  # store-side consent changes, applied by the workers


class Workers:
    """The test's worker processes: started on cue, killed or stopped by handle only."""

    def __init__(self, connected: Connected, platform: str, tmp_path: Path) -> None:
        self.connected = connected
        self.stalls = tmp_path / "stalls"
        self.stalls.mkdir()
        self.logs = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PATRONKIT_")}
        self.env.update(connected.app.env)
        self.env.update({stalling.PLATFORM: platform, stalling.STALL_DIR: str(self.stalls)})
        self.started: list[WorkerProcess] = []

    def start(self, *, stall_apply: str = "", stall_push: str = "") -> WorkerProcess:
        env = {**self.env, stalling.STALL_APPLY: stall_apply, stalling.STALL_PUSH: stall_push}
        log = self.logs / f"worker-{len(self.started) + 1}.log"
        worker = WorkerProcess(env, log, module="tests.conformance.stalling")
        self.started.append(worker)
        return worker

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        def done() -> bool:
            for worker in self.started:
                worker.check_running()
            return condition()

        wait_for(done, timeout=timeout, what=what)

    def stalled(self, name: str) -> bool:
        return (self.stalls / f"{name}.stalled").exists()

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()
        for worker in self.started:  # shown by pytest when the test failed
            print(f"--- {worker.log.name}\n{worker.log.read_text()[-4000:]}")


@pytest.fixture
def workers(
    platform: str, database_url: str, tmp_path: Path, clean_db: object
) -> Iterator[Workers]:
    """An imported store whose webhooks and pushes only worker processes handle."""
    with connected_store(
        platform, database_url, tmp_path, customers=CUSTOMERS, orders=ORDERS, workers=0
    ) as connected:
        connected.sync(full=True)
        connected.settle()
        started = Workers(connected, platform, tmp_path)
        try:
            yield started
        finally:
            started.stop_all()


def inbox_attempts(connected: Connected) -> set[int]:
    with connected.engine.connect() as connection:
        return set(connection.scalars(sa.select(inbox.c.attempts).distinct()))


def test_a_killed_worker_loses_nothing_and_applies_nothing_twice(workers: Workers) -> None:
    connected = workers.connected
    harness = connected.harness
    *changed, pushed = connected.with_email(CHANGES + 1)
    victim = changed[CHANGES // 2]
    ledger_before = connected.ledger_rows()

    first = workers.start(stall_apply=victim)
    for remote_id in changed:
        state = flipped(current_state(connected, remote_id, Channel.EMAIL))
        harness.set_consent(remote_id, Channel.EMAIL, state, OptInLevel.SINGLE)
    workers.wait(lambda: workers.stalled(f"apply-{victim}"), "the worker to reach the victim")
    first.kill()
    # Mid-batch: deliveries before the victim's were applied; its own died with the worker.
    assert connected.inbox_rows(status="applied") >= 1
    assert connected.inbox_rows(status="pending") >= 1
    victim_in_core = connected.core_customer(victim).consent(Channel.EMAIL)
    victim_in_store = harness.consent(victim, Channel.EMAIL)
    assert victim_in_store is not None
    assert victim_in_core is None or victim_in_core.state is not victim_in_store.state

    second = workers.start(stall_push=pushed)
    expected = connected.change_in_core(pushed)
    workers.wait(lambda: workers.stalled(f"push-{pushed}"), "the push to reach the store")
    second.kill()
    assert harness.consent(pushed, Channel.EMAIL) == expected  # the store has it already
    assert connected.outbox_rows(status="pending") == 1  # but we never heard it landed

    workers.start()
    workers.wait(lambda: connected.app.runtime.huey.pending_count() == 0, "the queue to drain")
    stale, due = sweep_past_grace(connected.app.runtime.sync)
    assert stale >= 1 and due == 1  # what the killed workers took with them
    connected.settle()

    assert connected.inbox_rows() == connected.inbox_rows(status="applied")
    assert inbox_attempts(connected) == {1}  # each delivery applied exactly once
    assert connected.outbox_rows() == connected.outbox_rows(status="sent")
    assert harness.consent(pushed, Channel.EMAIL) == expected
    assert connected.differences() == []
    assert connected.ledger_rows() - ledger_before == CHANGES + 1
    assert connected.duplicate_facts() == 0
