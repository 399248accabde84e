"""Acceptance: a worker killed with SIGKILL mid-batch and restarted loses nothing and applies
nothing twice, on the SQLite-backed queue and on Redis.

The worker is a real `patronkit worker` process (tests/sync/workerfakes.py adds the fake
platform to its registry). The kill is not timed: the fake stalls once inside one job and
leaves a marker, and the test kills the worker as soon as the marker appears. The jobs that
worker had taken from the queue are gone with it; the restarted worker drains the queue and a
sweep, run here with a clock past the grace period, hands out what is still pending.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.consent import Channel, ConsentState
from patronkit.core.store import tables
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.sync.inbox import Delivery
from patronkit.sync.tables import inbox, outbox
from tests.sync.workerfakes import (
    Stores,
    customer_delivery,
    read_pushes,
    seed_two_stores,
    status_counts,
    wait_until,
)
from tests.worker_process import WorkerProcess, sweep_past_grace

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
CUSTOMERS = 60  # three deliveries each: 180 (the suite's time budget; any number works)
KEY = FernetSealer.generate_key()


@dataclass
class Site:
    web: Runtime  # the producer side, in this process
    stores: Stores
    store_dir: Path  # the fake store's disk: pushes.jsonl and stall markers
    env: dict[str, str]
    tmp_path: Path
    workers: list[WorkerProcess]

    @property
    def db(self) -> sa.Engine:
        return self.web.engine

    def start_worker(self, **options: str) -> WorkerProcess:
        env = dict(self.env)
        env.update({f"PATRONKIT_TESTSTORE_{k.upper()}": v for k, v in options.items()})
        log = self.tmp_path / f"worker-{len(self.workers) + 1}.log"
        worker = WorkerProcess(env, log, module="tests.sync.workerfakes")
        self.workers.append(worker)
        return worker

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        def done() -> bool:
            for worker in self.workers:
                worker.check_running()
            return condition()

        wait_until(done, what, timeout=timeout)

    def marker(self, name: str) -> Path:
        return self.store_dir / f"{name}.stalled"

    def sweep_past_grace(self) -> tuple[int, int]:
        """The periodic sweep, run now as if the grace period had passed."""
        return sweep_past_grace(self.web.sync)


@pytest.fixture
def site(
    queue_url: str,
    database_url: str,
    clean_db: sa.Engine,  # the migrated schema, emptied after the test
    tmp_path: Path,
) -> Iterator[Site]:
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRONKIT_")}
    env.update(
        {
            "PATRONKIT_DATA_DIR": str(tmp_path / "data"),
            "PATRONKIT_DATABASE_URL": database_url,
            "PATRONKIT_QUEUE_URL": queue_url,
            "PATRONKIT_ENCRYPTION_KEYS": KEY,
            "PATRONKIT_LOG_LEVEL": "WARNING",
            "PATRONKIT_TESTSTORE_DIR": str(store_dir),
        }
    )
    # The web side never calls a store: it stores deliveries and enqueues jobs.
    web = build_runtime(Settings.load(env), gateways={})
    stores = seed_two_stores(web.engine, web.sealer)
    site = Site(web, stores, store_dir, env, tmp_path, [])
    try:
        yield site
    finally:
        for worker in site.workers:
            worker.stop()
        for worker in site.workers:  # shown by pytest when the test failed
            print(f"--- {worker.log.name}\n{worker.log.read_text()[-4000:]}")
        web.close()


def deliveries(stores: Stores, round_: int, *, stall: str = "") -> list[Delivery]:
    """Round 1: the customer signs up in store a. Round 2: the same person in store b (a newer
    opt-in, so a fact of its own). Round 3: they unsubscribe in store a."""
    shop, prefix, state, minutes = {
        1: (stores.shop_a, "a", "subscribed", 0),
        2: (stores.shop_b, "b", "subscribed", 1),
        3: (stores.shop_a, "a", "unsubscribed", 2),
    }[round_]
    at = T0 + timedelta(minutes=minutes)
    return [
        customer_delivery(
            shop,
            f"{prefix}{i}-r{round_}",
            f"{prefix}{i}",
            f"c{i}@example.com",
            (state, at),
            stall=f"{prefix}{i}" == stall,
        )
        for i in range(CUSTOMERS)
    ]


def receive_all(site: Site, batch: list[Delivery]) -> None:
    for delivery in batch:
        assert site.web.sync.receive(delivery)


def counts(site: Site, table: sa.Table) -> dict[str, int]:
    return status_counts(site.db, table)


def finish_after_restart(site: Site) -> tuple[int, int]:
    """Let the new worker drain the queue, sweep what the killed one took with it, and wait
    until nothing is pending."""
    site.wait(lambda: site.web.huey.pending_count() == 0, "the queue to drain", timeout=30)
    swept = site.sweep_past_grace()
    site.wait(
        lambda: "pending" not in counts(site, inbox) and "pending" not in counts(site, outbox),
        "every delivery and push to finish",
        timeout=30,
    )
    return swept


def assert_core_exactly_right(site: Site) -> None:
    """Every delivery applied once; one customer per person; one ledger row per fact."""
    assert counts(site, inbox) == {"applied": 3 * CUSTOMERS}
    merchant = site.stores.merchant.id
    with SqlUnitOfWork(site.db, read_only=True) as uow:
        s = uow.connection
        assert set(s.scalars(sa.select(inbox.c.attempts))) == {1}
        assert s.scalar(sa.select(sa.func.count()).select_from(tables.customers)) == CUSTOMERS
        assert s.scalar(sa.select(sa.func.count()).select_from(tables.store_links)) == 2 * CUSTOMERS
        ledger = list(
            s.execute(
                sa.select(tables.consent_events.c.customer_id, tables.consent_events.c.occurred_at)
            )
        )
        assert len(ledger) == 3 * CUSTOMERS == len(set(ledger))
        customers = uow.tenant(merchant).customers
        for i in range(CUSTOMERS):
            customer = customers.by_email(f"c{i}@example.com")
            assert customer is not None
            status = customer.consent(Channel.EMAIL)
            assert status is not None and status.state is ConsentState.UNSUBSCRIBED
            assert status.occurred_at == T0 + timedelta(minutes=2)


def assert_store_ends_right(site: Site, *, corrections: bool) -> Counter[str]:
    """Every outbox row sent; store b heard every withdrawal; every store customer we pushed
    to ends with core's state. Returns how often each remote customer was pushed.

    With `corrections`, deliveries may have been applied out of order (a job lost with the
    killed worker is applied after later ones; on SQLite a worker thread can also wait out
    its siblings for the write lock), and a store that reported an already superseded state
    gets core's answer back: a few extra pushes, to store a as well.
    """
    outbox_counts = counts(site, outbox)
    assert set(outbox_counts) == {"sent"}
    if not corrections:
        assert outbox_counts == {"sent": CUSTOMERS}
    pushes = read_pushes(site.store_dir)
    last = {(p["domain"], p["remote_id"]): p for p in pushes}
    b_side = {("b.example", f"b{i}") for i in range(CUSTOMERS)}
    a_side = {("a.example", f"a{i}") for i in range(CUSTOMERS)}
    assert b_side <= set(last) <= (b_side | a_side if corrections else b_side)
    expected = (T0 + timedelta(minutes=2)).isoformat()
    assert {(p["state"], p["occurred_at"]) for p in last.values()} == {("unsubscribed", expected)}
    return Counter(p["remote_id"] for p in pushes)


def test_a_worker_killed_mid_apply_loses_nothing_and_applies_nothing_twice(site: Site) -> None:
    receive_all(site, deliveries(site.stores, 1))
    receive_all(site, deliveries(site.stores, 2, stall="b30"))  # delivery 91 of 180
    receive_all(site, deliveries(site.stores, 3))

    first = site.start_worker()
    site.wait(lambda: site.marker("apply-b30").exists(), "the worker to reach b30")
    first.kill()

    during = counts(site, inbox)
    assert 0 < during.get("applied", 0) < 3 * CUSTOMERS
    stalled = site.stores.shop_b.id
    with SqlUnitOfWork(site.db, read_only=True) as uow:
        b30 = uow.connection.execute(
            sa.select(inbox.c.status).where(
                inbox.c.shop_id == stalled, inbox.c.delivery_key == "b30-r2"
            )
        ).scalar_one()
    assert b30 == "pending"  # its transaction died with the worker

    site.start_worker()
    stale, _ = finish_after_restart(site)
    assert stale >= 1  # at least b30, whose job the killed worker had taken

    assert_core_exactly_right(site)
    assert_store_ends_right(site, corrections=True)


def test_a_worker_killed_mid_push_resends_and_core_stays_exact(site: Site) -> None:
    first = site.start_worker(stall_push="b40")
    receive_all(site, deliveries(site.stores, 1) + deliveries(site.stores, 2))
    site.wait(lambda: counts(site, inbox) == {"applied": 2 * CUSTOMERS}, "the links", timeout=30)
    assert counts(site, outbox) == {}  # the same person in two stores: nothing to push yet
    receive_all(site, deliveries(site.stores, 3))  # each withdrawal in a is pushed to b

    site.wait(lambda: site.marker("push-b40").exists(), "the push to b40")
    first.kill()  # b40's store call went through; its outbox row was not marked sent

    assert any(p["remote_id"] == "b40" for p in read_pushes(site.store_dir))
    assert counts(site, outbox).get("pending", 0) >= 1

    site.start_worker(stall_push="b40")  # the marker exists: this one does not stall
    finish_after_restart(site)  # (the new worker's own periodic sweep may resend b40 first)

    assert_core_exactly_right(site)
    received = assert_store_ends_right(site, corrections=False)
    assert received["b40"] >= 2  # at least once, and b40 was sent again after the kill
