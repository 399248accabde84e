"""The hand-off from the inbox writer to the job queue: nothing lost or sent twice, batches
that grow under load, and a failing queue that does not stop later hand-offs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pytest

from patronkit.sync.handoff import Handoff


class Recorder:
    def __init__(self, fail_first: bool = False) -> None:
        self.rounds: list[list[int]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

    def __call__(self, items: Sequence[int]) -> None:
        with self.lock:
            if self.fail_first:
                self.fail_first = False
                raise ConnectionError("queue down")
            self.rounds.append(list(items))


def test_an_idle_handoff_sends_at_once() -> None:
    sent = Recorder()
    handoff = Handoff(sent, name="t", min_interval=10.0)
    started = time.monotonic()
    handoff.put([1])
    assert handoff.flush(timeout=5)
    assert time.monotonic() - started < 1.0  # the first round does not wait out the interval
    assert sent.rounds == [[1]]
    handoff.close()


def test_under_load_rounds_gather_many_and_every_item_goes_once_in_order() -> None:
    sent = Recorder()
    handoff = Handoff(sent, name="t", min_interval=0.05)
    for n in range(0, 600, 3):
        handoff.put([n, n + 1, n + 2])
        time.sleep(0.0005)
    handoff.close()
    assert [item for batch in sent.rounds for item in batch] == list(range(600))
    assert len(sent.rounds) < 100  # 200 puts, gathered into far fewer jobs


def test_a_failed_round_is_logged_and_later_rounds_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = Recorder(fail_first=True)
    handoff = Handoff(sent, name="t", min_interval=0.0)
    with caplog.at_level(logging.WARNING):
        handoff.put([1])
        assert handoff.flush(timeout=5)
        handoff.put([2])
        handoff.close()
    assert sent.rounds == [[2]]  # 1 is left to the sweeper, which finds it pending
    assert "hand-off of 1 failed: ConnectionError" in caplog.text


def test_nothing_put_starts_no_thread() -> None:
    before = threading.active_count()
    handoff = Handoff(Recorder(), name="t")
    handoff.put([])
    assert threading.active_count() == before
    handoff.close()
