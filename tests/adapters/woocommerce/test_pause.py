"""A Retry-After holds every request to the store in this process, not only the one told."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import responses

from patronkit.adapters.woocommerce.client import WooCommerceClient, WooCommerceUnavailable
from patronkit.adapters.woocommerce.pause import StorePause, StorePauses

SITE = "https://shop.example.com"
API = f"{SITE}/wp-json/wc/v3"
KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40


class FakeClock:
    """Fake monotonic time: `sleep` records the delay, runs `during` once (what another
    worker thread does while this one sleeps), then advances the time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.during: Callable[[], object] = lambda: None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        during, self.during = self.during, lambda: None
        during()
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pause(clock: FakeClock) -> StorePause:
    return StorePause(clock=clock)


def client(clock: FakeClock, pause: StorePause) -> WooCommerceClient:
    return WooCommerceClient(
        SITE, KEY, SECRET, sleep=clock.sleep, rng=random.Random(1), pause=pause
    )


@responses.activate
def test_a_retry_after_heard_by_one_client_holds_the_others(
    clock: FakeClock, pause: StorePause
) -> None:
    told, other = client(clock, pause), client(clock, pause)
    responses.put(f"{API}/customers/1", status=429, headers={"Retry-After": "3"})
    responses.put(f"{API}/customers/1", json={})
    responses.put(f"{API}/customers/2", json={})

    clock.during = lambda: other.put("customers/2", {})  # another worker, meanwhile
    told.put("customers/1", {})

    # The other worker waited out the pause before its call; the told one did not wait twice.
    assert clock.sleeps == [3.0, 3.0]
    paths = [str(call.request.url).removeprefix(API) for call in responses.calls]
    assert paths == ["/customers/1", "/customers/2", "/customers/1"]


@responses.activate
def test_a_waiting_client_honours_a_pause_that_came_while_it_slept(
    clock: FakeClock, pause: StorePause
) -> None:
    responses.get(f"{API}/orders", json=[])
    pause.hold(2.0)
    clock.during = lambda: pause.hold(5.0)  # meanwhile another worker is told to wait 5 s

    client(clock, pause).get("orders")

    assert clock.sleeps == [2.0, 3.0]  # it woke, saw the newer pause, and waited it out
    assert len(responses.calls) == 1


@responses.activate
def test_a_long_pause_of_the_store_fails_other_requests_at_once(
    clock: FakeClock, pause: StorePause
) -> None:
    pause.hold(3600)
    with pytest.raises(WooCommerceUnavailable):
        client(clock, pause).get("orders")
    assert (len(responses.calls), clock.sleeps) == (0, [])  # sync retries it later


def test_each_store_has_its_own_pause() -> None:
    pauses = StorePauses()
    assert pauses.get(SITE) is pauses.get(SITE)
    assert pauses.get(SITE) is not pauses.get("https://other.example.com")
