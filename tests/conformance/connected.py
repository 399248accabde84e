"""One store connected to a running patronkit, installed through the platform's real flow:
what every scenario starts from, and the questions scenarios ask of both sides."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from uuid import UUID

import requests
import sqlalchemy as sa

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.values import utcnow
from patronkit.core.store import tables
from patronkit.sync.importer import ImportStats, sync_shop
from patronkit.sync.tables import inbox, outbox
from tests.conformance.compare import (
    core_orders,
    customer_differences,
    linked_customers,
    order_differences,
)
from tests.conformance.harness import PlatformHarness, StoreConsent, StoreSpec
from tests.conformance.platforms import HARNESSES
from tests.e2e.app import RunningApp, free_port, running_app

# Modest sizes: big enough for pagination (WooCommerce pages of 100), batching and a real
# storm, small enough that the whole suite stays well under a few minutes per database.
CUSTOMERS = 150
ORDERS = 20


@dataclass(frozen=True)
class Installed:
    merchant_id: UUID
    shop_id: UUID


def install(harness: PlatformHarness, app: RunningApp, begin_url: str | None = None) -> Installed:
    """The merchant installs patronkit from a browser, starting at `begin_url` (default: our
    plain install URL for the harness's store); the store ends connected and active."""
    if begin_url is None:
        query = urlencode({"shop": harness.shop_address()})
        begin_url = f"{app.url}/install/{harness.platform}?{query}"
    with requests.Session() as browser:  # keeps our state cookie, as a browser would
        harness.approve_install(browser, begin_url, app.url)
    with app.runtime.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain(harness.platform, harness.connection_domain())
    assert shop is not None and shop.active, "the install did not connect the store"
    return Installed(shop.merchant_id, shop.id)


@dataclass
class Connected:
    harness: PlatformHarness
    app: RunningApp
    shop: Installed

    @property
    def engine(self) -> sa.Engine:
        return self.app.runtime.engine

    def settle(self, timeout: float = 60.0) -> None:
        self.app.settle(self.harness.webhooks_idle, timeout=timeout)

    def sync(self, *, full: bool = False) -> ImportStats:
        """`patronkit import` (full) or `patronkit reconcile` for this store."""
        return sync_shop(self.app.runtime.sync, self.shop.merchant_id, self.shop.shop_id, full=full)

    def core_customers(self) -> dict[str, Customer]:
        return linked_customers(self.engine, self.shop.merchant_id, self.shop.shop_id)

    def core_customer(self, remote_id: str) -> Customer:
        with self.app.runtime.unit_of_work(read_only=True) as uow:
            customers = uow.tenant(self.shop.merchant_id).customers
            customer = customers.by_link(self.shop.shop_id, remote_id)
        assert customer is not None, f"store customer {remote_id} is not in core"
        return customer

    def differences(self) -> list[str]:
        """Every way core disagrees with the store (customers, consents, orders)."""
        core = self.core_customers()
        return customer_differences(self.harness.snapshot(), core) + order_differences(
            self.harness.orders(), core_orders(self.engine, self.shop.shop_id), core
        )

    def ledger_rows(self) -> int:
        return self.app.count(tables.consent_events)

    def duplicate_facts(self) -> int:
        """Ledger rows that repeat another's fact for the same person (must be none)."""
        e = tables.consent_events.c
        fact = (e.customer_id, e.channel, e.purpose, e.state, e.opt_in_level, e.occurred_at)
        repeated = sa.select(*fact).group_by(*fact).having(sa.func.count() > 1).subquery()
        with self.engine.connect() as connection:
            query = sa.select(sa.func.count()).select_from(repeated)
            return int(connection.execute(query).scalar_one())

    def outbox_rows(self, **where: object) -> int:
        return self.app.count(outbox, **where)

    def inbox_rows(self, **where: object) -> int:
        return self.app.count(inbox, **where)

    def change_in_core(self, remote_id: str, channel: Channel = Channel.EMAIL) -> StoreConsent:
        """The shopper flips their consent on our preference page (a change made in core,
        which sync pushes to the store); what the store must end up holding."""
        customer = self.core_customer(remote_id)
        status = customer.consent(channel)
        state = flipped(status.state if status else None)
        level = OptInLevel.CONFIRMED if state is ConsentState.SUBSCRIBED else OptInLevel.SINGLE
        event = ConsentEvent(
            merchant_id=self.shop.merchant_id,
            customer_id=customer.id,
            channel=channel,
            state=state,
            opt_in_level=level,
            source=ConsentSource(SourceKind.WIDGET),
            occurred_at=utcnow(),
            evidence=Evidence(touchpoint="preference_link", ip="203.0.113.7", actor="shopper"),
        )
        assert self.app.runtime.sync.change_consent(event)
        return StoreConsent(state, level)

    def with_email(self, limit: int) -> list[str]:
        """Remote ids of shoppers that have an email and a record in core, in a stable order."""
        core = self.core_customers()
        return [
            remote_id
            for remote_id in self.harness.customer_ids()
            if remote_id in core and core[remote_id].email
        ][:limit]


def flipped(state: ConsentState | None) -> ConsentState:
    """A consent state other than `state`: a change that is a new fact either way."""
    return (
        ConsentState.UNSUBSCRIBED if state is ConsentState.SUBSCRIBED else ConsentState.SUBSCRIBED
    )


def current_state(connected: Connected, remote_id: str, channel: Channel) -> ConsentState | None:
    consent = connected.harness.consent(remote_id, channel)
    return consent.state if consent else None


@contextlib.contextmanager
def connected_store(
    platform: str,
    database_url: str,
    tmp_path: Path,
    *,
    customers: int,
    orders: int = 0,
    seed: int = 7,
    workers: int = 4,
) -> Iterator[Connected]:
    """Simulator, app and install; `workers=0` leaves applying to a worker process."""
    port = free_port()
    spec = StoreSpec(f"http://127.0.0.1:{port}", customers, orders, seed)
    with (
        HARNESSES[platform].running(spec) as harness,
        running_app(
            database_url, tmp_path, harness.app_settings(), port=port, workers=workers
        ) as app,
    ):
        yield Connected(harness, app, install(harness, app))
