"""Group commit: concurrent callers share one write, each gets its own answer, errors reach
every caller of the failed batch, and after-work runs once the callers are answered."""

from __future__ import annotations

import threading
import time
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


def test_after_work_runs_once_the_other_callers_are_answered() -> None:
    """The leader does the after-work itself, after answering everyone in its batch."""
    gate = threading.Event()
    answered_at: dict[int, float] = {}
    after_done: list[float] = []

    def write(items: Sequence[int]) -> list[int]:
        gate.wait(5)  # let the second caller queue up behind the first
        return list(items)

    def after(results: list[int]) -> None:
        time.sleep(0.3)
        after_done.append(time.monotonic())

    committer: GroupCommitter[int, int] = GroupCommitter(write, "t", after)

    def call(n: int) -> None:
        committer.submit(n)
        answered_at[n] = time.monotonic()

    first = threading.Thread(target=call, args=(1,))
    first.start()
    time.sleep(0.1)  # the first caller is now the leader, holding its write
    second = threading.Thread(target=call, args=(2,))
    second.start()
    time.sleep(0.1)
    gate.set()
    first.join(5)
    second.join(5)
    assert set(answered_at) == {1, 2} and len(after_done) >= 1
    # Whoever led the batch holding both answered the other before its slow after-work ended.
    assert min(answered_at.values()) < after_done[-1]


def test_a_caller_that_times_out_leaves_the_queue_and_later_callers_still_get_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from patronkit.sync import group_commit

    monkeypatch.setattr(group_commit, "WAIT_SECONDS", 0.2)
    gate = threading.Event()
    written: list[int] = []

    def write(items: Sequence[int]) -> list[int]:
        gate.wait(5)
        written.extend(items)
        return list(items)

    committer: GroupCommitter[int, int] = GroupCommitter(write, name="test")
    leader = threading.Thread(target=committer.submit, args=(1,))
    leader.start()
    time.sleep(0.05)  # 1 is being written, held by the gate
    with pytest.raises(TimeoutError):
        committer.submit(2)  # queued behind the stuck write, gives up
    gate.set()
    leader.join(5)
    assert committer.submit(3) == 3
    assert written == [1, 3]  # the abandoned item was never written


def test_many_concurrent_callers_are_all_answered_in_order_of_their_items() -> None:
    committer: GroupCommitter[int, int] = GroupCommitter(list, name="t")
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(committer.submit, range(2000)))
    assert answers == list(range(2000))
