"""Group commit: concurrent callers share one write, each gets its own answer, errors reach
every caller of the failed batch, and after-work runs once the callers are answered."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from patronkit.sync.group_commit import GroupCommitter


def test_concurrent_callers_share_writes_and_get_their_own_answers() -> None:
    batches: list[list[int]] = []
    gate = threading.Event()

    def write(items: Sequence[int]) -> list[int]:
        gate.wait(5)  # hold the first write so that the others pile up behind it
        batches.append(list(items))
        return [item * 10 for item in items]

    committer: GroupCommitter[int, int] = GroupCommitter(write, name="test")
    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(committer.submit, n) for n in range(40)]
        gate.set()
        answers = [future.result(timeout=10) for future in futures]
    assert answers == [n * 10 for n in range(40)]
    assert sorted(item for batch in batches for item in batch) == list(range(40))
    assert len(batches) < 40  # callers were grouped


def test_a_failed_write_fails_every_caller_of_that_batch_and_the_next_batch_works() -> None:
    calls = 0

    def write(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")
        return list(items)

    committer: GroupCommitter[str, str] = GroupCommitter(write, name="test")
    with pytest.raises(RuntimeError, match="database down"):
        committer.submit("a")
    assert committer.submit("b") == "b"


def test_after_work_runs_once_the_callers_are_answered() -> None:
    answered = threading.Event()
    seen: list[list[int]] = []

    def after(results: list[int]) -> None:
        assert answered.wait(5)
        seen.append(results)

    committer: GroupCommitter[int, int] = GroupCommitter(list, "t", after)
    assert committer.submit(7) == 7
    answered.set()
    for _ in range(100):
        if seen:
            break
        threading.Event().wait(0.02)
    assert seen == [[7]]
