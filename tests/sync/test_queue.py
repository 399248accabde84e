"""The job queue for real: a Huey consumer in threads, on SQLite-backed Huey and on Redis.

The producer ("web") and the consumer ("worker") are two runtimes built from the same settings,
sharing only the database and the queue URL, as two processes would. The fake store is one
in-process object that both can see, so the test can read what reached it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from huey import Huey

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.consent import Channel, ConsentState
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import ConsentPush, PushOutcome, ShopAccess
from patronkit.sync import outbox as outbox_module
from patronkit.sync.tables import inbox, outbox
from tests.sync.fakes import FakeGateway
from tests.sync.workerfakes import (
    PLATFORM,
    Stores,
    customer_delivery,
    seed_two_stores,
    status_counts,
    wait_until,
)

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
KEY = FernetSealer.generate_key()


@dataclass
class GatedGateway(FakeGateway):
    """The fake store, able to hold one push inside the store call until told to go on."""

    hold_next: bool = False
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def push_consent(self, shop: ShopAccess, push: ConsentPush) -> PushOutcome:
        if self.hold_next:
            self.hold_next = False
            self.held.set()
            assert self.release.wait(10), "the test never released the held push"
        return super().push_consent(shop, push)


@dataclass
class Deployment:
    web: Runtime
    worker: Runtime
    gateway: GatedGateway
    stores: Stores

    @property
    def db(self) -> sa.Engine:
        return self.web.engine


@pytest.fixture
def deployment(
    queue_url: str,
    database_url: str,
    clean_db: sa.Engine,  # the migrated schema, emptied after the test
    tmp_path: Path,
) -> Iterator[Deployment]:
    settings = Settings.load(
        {
            "PATRONKIT_DATA_DIR": str(tmp_path / "data"),
            "PATRONKIT_DATABASE_URL": database_url,
            "PATRONKIT_QUEUE_URL": queue_url,
            "PATRONKIT_ENCRYPTION_KEYS": KEY,
        }
    )
    gateway = GatedGateway()
    web = build_runtime(settings, gateways={PLATFORM: gateway})
    worker = build_runtime(settings, gateways={PLATFORM: gateway})
    stores = seed_two_stores(web.engine, web.sealer)
    yield Deployment(web, worker, gateway, stores)
    web.close()
    worker.close()


@contextlib.contextmanager
def running_consumer(huey: Huey, workers: int = 2) -> Iterator[None]:
    """A real Huey consumer (scheduler and worker threads) on a background thread."""
    consumer = huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=False,
        initial_delay=0.01,  # poll an empty SQLite queue often: tests wait on it
        max_delay=0.1,
    )
    if hasattr(huey.storage, "read_timeout"):
        # Redis workers block on BRPOP this long between looks at the stop flag (default 1 s).
        huey.storage.read_timeout = 0.1
    # Signal handlers can only be set from the main thread, which belongs to pytest.
    consumer._set_signal_handlers = lambda: None
    thread = threading.Thread(target=consumer.run, name="huey-consumer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)  # lets running jobs finish, then joins the threads
        thread.join(timeout=10)
        assert not thread.is_alive(), "the consumer did not stop"


def link_in_both_stores(d: Deployment, count: int) -> None:
    """Each customer arrives from both stores with the same fact: no pushes come of it.

    Store a's deliveries are applied before store b's are sent: on PostgreSQL two threads
    meeting a new person at once collide on the unique email, and one waits out Huey's retry
    delay (correct, but seconds this suite need not spend).
    """
    for done, (shop, prefix) in enumerate(((d.stores.shop_a, "a"), (d.stores.shop_b, "b")), 1):
        for i in range(count):
            delivery = customer_delivery(
                shop, f"{prefix}{i}-1", f"{prefix}{i}", f"c{i}@example.com", ("subscribed", T0)
            )
            assert d.web.sync.receive(delivery)
        wait_applied(d, done * count, f"store {prefix}'s customers")


def wait_applied(d: Deployment, count: int, what: str) -> None:
    wait_until(lambda: status_counts(d.db, inbox) == {"applied": count}, what)


def consent_in_core(db: sa.Engine, stores: Stores, email: str) -> ConsentState:
    with SqlUnitOfWork(db, read_only=True) as uow:
        customer = uow.tenant(stores.merchant.id).customers.by_email(email)
        assert customer is not None
        status = customer.consent(Channel.EMAIL)
        assert status is not None
        return status.state


def test_deliveries_are_applied_and_their_pushes_sent(deployment: Deployment) -> None:
    d, count = deployment, 10
    with running_consumer(d.worker.huey):
        link_in_both_stores(d, count)
        assert status_counts(d.db, outbox) == {}
        withdrawn = T0 + timedelta(minutes=5)
        for i in range(count):
            delivery = customer_delivery(
                d.stores.shop_a,
                f"a{i}-2",
                f"a{i}",
                f"c{i}@example.com",
                ("unsubscribed", withdrawn),
            )
            assert d.web.sync.receive(delivery)
        assert not d.web.sync.receive(delivery)  # a redelivery queues nothing
        wait_until(lambda: status_counts(d.db, outbox) == {"sent": count}, "the pushes")
    assert status_counts(d.db, inbox) == {"applied": 3 * count}
    with SqlUnitOfWork(d.db, read_only=True) as uow:
        assert set(uow.connection.scalars(sa.select(inbox.c.attempts))) == {1}
        assert uow.tenant(d.stores.merchant.id).customers.count() == count
    # Each withdrawal reached the other store, once, and only that store.
    assert sorted((domain, p.customer_remote_id, p.state) for domain, p in d.gateway.pushes) == (
        sorted(("b.example", f"b{i}", ConsentState.UNSUBSCRIBED) for i in range(count))
    )


def test_a_push_the_store_refuses_is_retried_when_due(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = deployment
    monkeypatch.setattr(outbox_module, "BASE_DELAY", timedelta(milliseconds=200))
    with running_consumer(d.worker.huey):
        link_in_both_stores(d, 1)
        d.gateway.failures_left = 1
        withdrawn = T0 + timedelta(minutes=5)
        d.web.sync.receive(
            customer_delivery(
                d.stores.shop_a, "a0-2", "a0", "c0@example.com", ("unsubscribed", withdrawn)
            )
        )
        # No sweeper runs (periodic=False): only the task scheduled with an eta can land it.
        wait_until(lambda: status_counts(d.db, outbox) == {"sent": 1}, "the retried push")
    with SqlUnitOfWork(d.db, read_only=True) as uow:
        row = uow.connection.execute(sa.select(outbox)).one()
    assert (row.attempts, row.error, row.outcome) == (1, None, "applied")
    assert d.gateway.failures_left == 0
    [(domain, push)] = d.gateway.pushes
    assert (domain, push.customer_remote_id, push.state) == (
        "b.example",
        "b0",
        ConsentState.UNSUBSCRIBED,
    )


def test_a_change_during_a_push_still_reaches_the_store(deployment: Deployment) -> None:
    d = deployment
    with running_consumer(d.worker.huey, workers=2):
        link_in_both_stores(d, 1)
        d.gateway.hold_next = True
        withdrawn = T0 + timedelta(minutes=5)
        d.web.sync.receive(
            customer_delivery(
                d.stores.shop_a, "a0-2", "a0", "c0@example.com", ("unsubscribed", withdrawn)
            )
        )
        assert d.gateway.held.wait(10), "the push to b never started"
        # While one worker thread is inside the store call, the other applies a newer opt-in.
        again = T0 + timedelta(minutes=10)
        d.web.sync.receive(
            customer_delivery(
                d.stores.shop_a, "a0-3", "a0", "c0@example.com", ("subscribed", again)
            )
        )
        wait_applied(d, 4, "the newer opt-in")
        d.gateway.release.set()
        wait_until(lambda: "pending" not in status_counts(d.db, outbox), "the pushes to finish")
    assert consent_in_core(d.db, d.stores, "c0@example.com") is ConsentState.SUBSCRIBED
    last_domain, last_push = d.gateway.pushes[-1]
    assert (last_domain, last_push.state) == ("b.example", ConsentState.SUBSCRIBED)
