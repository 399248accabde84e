"""Token buckets and the client address rule."""

from __future__ import annotations

import pytest
from flask import Flask, request

from patronkit.webapp.client_ip import client_ip
from patronkit.webapp.ratelimit import TokenBuckets, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=3, refill_per_second=0.5, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [None, None, None]
    assert buckets.take("a") == pytest.approx(2.0)
    assert buckets.take("b") is None  # keys are independent
    clock.now += 1.0
    assert buckets.take("a") == pytest.approx(1.0)  # half a token so far
    clock.now += 1.0
    assert buckets.take("a") is None
    clock.now += 1000
    assert [buckets.take("a") for _ in range(4)][-1] is not None  # capped at capacity


def test_a_refused_take_spends_nothing() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=1, refill_per_second=1, clock=clock)
    buckets.take("a")
    for _ in range(5):
        assert buckets.take("a") is not None
    clock.now += 1
    assert buckets.take("a") is None


def test_idle_buckets_are_dropped_first_when_full() -> None:
    buckets = TokenBuckets(capacity=1, refill_per_second=0.001, clock=Clock())
    buckets.MAX_KEYS = 2
    buckets.take("a")
    buckets.take("b")
    buckets.take("a")  # refused, but a is now the most recent
    buckets.take("c")  # evicts b
    assert buckets.take("a") is not None
    assert buckets.take("b") is None  # a fresh bucket


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_rounds_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("10.0.0.1", ["1.2.3.4"], 0, "10.0.0.1"),
        ("10.0.0.1", ["1.2.3.4"], 1, "1.2.3.4"),
        ("10.0.0.1", ["9.9.9.9, 1.2.3.4"], 1, "1.2.3.4"),
        ("10.0.0.1", ["9.9.9.9", "1.2.3.4"], 2, "9.9.9.9"),
        ("10.0.0.1", [], 1, "10.0.0.1"),
        ("10.0.0.1", ["not-an-ip"], 1, None),
        ("::ffff:10.0.0.1", [], 0, "::ffff:a00:1"),
    ],
)
def test_client_ip(remote: str, forwarded: list[str], trusted: int, expected: str | None) -> None:
    app = Flask(__name__)
    headers = [("X-Forwarded-For", value) for value in forwarded]
    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": remote}):
        assert client_ip(request, trusted) == expected
