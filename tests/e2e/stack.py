"""The whole product over loopback: a simulated Shopify shop, our web app under waitress,
Huey workers on an SQLite queue, and the test database."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from waitress.server import create_server

from patronkit.adapters.shopify.gateway import ShopifyGateway
from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.storefront import ShopAccess
from patronkit.sync.queue import BackgroundWorkers
from patronkit.sync.tables import inbox, outbox
from patronkit.webapp import create_app

SCOPES = "read_customers,write_customers,read_orders,read_discounts,write_discounts"

SIM_STATE = {
    "SUBSCRIBED": ConsentState.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
    "PENDING": ConsentState.PENDING,
    "NOT_SUBSCRIBED": ConsentState.NOT_SUBSCRIBED,
    "REDACTED": ConsentState.UNSUBSCRIBED,
}
SIM_LEVEL = {
    "SINGLE_OPT_IN": OptInLevel.SINGLE,
    "CONFIRMED_OPT_IN": OptInLevel.CONFIRMED,
    "UNKNOWN": OptInLevel.UNKNOWN,
    None: OptInLevel.UNKNOWN,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Stack:
    sim: ShopifySimulator
    runtime: Runtime
    url: str
    merchant_id: UUID
    shop_id: UUID

    @property
    def gateway(self) -> ShopifyGateway:
        gateway = self.runtime.gateways["shopify"]
        assert isinstance(gateway, ShopifyGateway)
        return gateway

    def access(self) -> ShopAccess:
        with self.runtime.unit_of_work(read_only=True) as uow:
            shop = uow.tenant(self.merchant_id).shops.get(self.shop_id)
            return ShopAccess(shop.domain, shop.api_url, shop.credentials(self.runtime.sealer))

    def pending(self) -> tuple[int, int]:
        with self.runtime.engine.connect() as connection:
            deliveries = connection.execute(
                sa.select(sa.func.count()).select_from(inbox).where(inbox.c.status == "pending")
            ).scalar_one()
            pushes = connection.execute(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "pending")
            ).scalar_one()
        return int(deliveries), int(pushes)

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the shop has sent every webhook and we have applied and pushed all."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            idle = self.sim.wait_for_webhooks(timeout=0.05) and self.pending() == (0, 0)
            if idle:
                quiet_since = quiet_since or time.monotonic()
                # Quiet for a moment: an echo may still be in flight between the two sides.
                if time.monotonic() - quiet_since > 0.5:
                    return
            else:
                quiet_since = None
            time.sleep(0.05)
        raise AssertionError(f"not settled after {timeout}s: pending={self.pending()}")

    def customer_by_remote(self, remote_id: int | str) -> Customer | None:
        with self.runtime.unit_of_work(read_only=True) as uow:
            return uow.tenant(self.merchant_id).customers.by_link(self.shop_id, str(remote_id))

    def all_customers(self) -> dict[str, Customer]:
        """Core's customers of this merchant keyed by their id in the simulated shop."""
        with self.runtime.unit_of_work(read_only=True) as uow:
            from patronkit.core.store import tables

            ids = uow.connection.scalars(
                sa.select(tables.customers.c.id).where(
                    tables.customers.c.merchant_id == self.merchant_id
                )
            ).all()
            customers = [uow.tenant(self.merchant_id).customers.get(i) for i in ids]
        found: dict[str, Customer] = {}
        for customer in customers:
            link = customer.link_for(self.shop_id)
            if link is not None:
                found[link.remote_id] = customer
        return found


def differences(stack: Stack) -> list[str]:
    """Every way core disagrees with the simulated shop, as readable lines (empty: equal)."""
    core = stack.all_customers()
    problems: list[str] = []
    with stack.sim.state.lock:
        shop_customers = {str(c.id): c for c in stack.sim.state.customers.values()}
    if set(core) != set(shop_customers):
        missing = sorted(set(shop_customers) - set(core))[:5]
        extra = sorted(set(core) - set(shop_customers))[:5]
        problems.append(f"customers differ: missing {missing} extra {extra}")
    for remote_id, theirs in shop_customers.items():
        ours = core.get(remote_id)
        if ours is None:
            continue
        mine = (ours.email, ours.phone, ours.first_name, ours.last_name)
        shop = (theirs.email, theirs.phone, theirs.first_name or None, theirs.last_name or None)
        if mine != shop:
            problems.append(f"{remote_id} profile {mine} != {shop}")
        consents: list[tuple[Channel, Any]] = [(Channel.EMAIL, theirs.email_consent)]
        if theirs.sms_consent is not None:
            consents.append((Channel.SMS, theirs.sms_consent))
        for channel, consent in consents:
            status = ours.consent(channel)
            state = SIM_STATE.get(consent.marketing_state)
            if consent.consent_updated_at is None and state is ConsentState.NOT_SUBSCRIBED:
                if status is not None and status.state is not ConsentState.NOT_SUBSCRIBED:
                    problems.append(f"{remote_id} {channel} {status.state} but shop never asked")
                continue
            expected = (state, SIM_LEVEL[consent.opt_in_level])
            actual = (status.state, status.opt_in_level) if status else None
            if actual != expected:
                problems.append(f"{remote_id} {channel} core {actual} != shop {expected}")
    return problems


@contextlib.contextmanager
def running_stack(
    database_url: str,
    tmp_path: Path,
    *,
    customers: int = 200,
    workers: int = 4,
    seed: int = 7,
    **simulator_options: Any,
) -> Iterator[Stack]:
    port = free_port()
    with running_simulator(
        customers=customers,
        seed=seed,
        bulk_duration_seconds=0.2,
        # Shopify sends the privacy topics to the URLs in the app's configuration.
        compliance_webhook_url=f"http://127.0.0.1:{port}/webhooks/shopify",
        **simulator_options,
    ) as sim:
        settings = Settings.load(
            {
                "PATRONKIT_DATA_DIR": str(tmp_path / "data"),
                "PATRONKIT_DATABASE_URL": database_url,
                "PATRONKIT_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
                "PATRONKIT_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "PATRONKIT_SHOPIFY_CLIENT_ID": sim.client_id,
                "PATRONKIT_SHOPIFY_CLIENT_SECRET": sim.client_secret,
                "PATRONKIT_SHOPIFY_SCOPES": SCOPES,
                "PATRONKIT_SHOPIFY_API_BASE_OVERRIDE": f"{sim.shop_domain}={sim.url}",
            }
        )
        runtime = build_runtime(settings)
        server = create_server(create_app(runtime=runtime), host="127.0.0.1", port=port, threads=8)
        web = threading.Thread(target=server.run, daemon=True)
        web.start()
        background = BackgroundWorkers(runtime.huey, workers=workers)
        background.start()
        try:
            merchant_id, shop_id = _install(runtime, sim)
            stack = Stack(sim, runtime, f"http://127.0.0.1:{port}", merchant_id, shop_id)
            stack.gateway.register_webhooks(stack.access(), f"{stack.url}/webhooks/shopify")
            yield stack
        finally:
            background.stop()
            server.close()
            runtime.close()


def _install(runtime: Runtime, sim: ShopifySimulator) -> tuple[UUID, UUID]:
    """Connect the shop as an install would (the install flow has its own tests)."""
    merchant = Merchant(name="E2E Outfitters")
    shop = ShopConnection(
        merchant_id=merchant.id, platform="shopify", domain=sim.shop_domain, api_url=sim.url
    )
    shop.store_credentials(
        runtime.sealer, {"access_token": sim.install_app(tuple(SCOPES.split(",")))}
    )
    with runtime.unit_of_work() as uow:
        uow.merchants.add(merchant)
        uow.tenant(merchant.id).shops.add(shop)
        uow.commit()
    return merchant.id, shop.id


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
