"""The whole product over loopback on one simulated Shopify shop: the platform-neutral app
(app.py: waitress, Huey workers on an SQLite queue, the test database) beside the Shopify
simulator. The shop is connected directly in the database (the install flows have tests of
their own, and tests/conformance installs through them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from patronkit.adapters.shopify.gateway import ShopifyGateway
from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.bootstrap import Runtime
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.storefront import ShopAccess
from tests.conformance.compare import customer_differences, linked_customers
from tests.conformance.shopify import SCOPES, ShopifyHarness, store_customer
from tests.e2e.app import RunningApp, free_port, running_app, wait_for

__all__ = ["Stack", "differences", "free_port", "running_stack", "wait_for"]


@dataclass
class Stack:
    sim: ShopifySimulator
    app: RunningApp
    merchant_id: UUID
    shop_id: UUID

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime

    @property
    def url(self) -> str:
        return self.app.url

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
        return self.app.pending()

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until the shop has sent every webhook and we have applied and pushed all."""
        self.app.settle(lambda wait: self.sim.wait_for_webhooks(timeout=wait), timeout=timeout)

    def customer_by_remote(self, remote_id: int | str) -> Customer | None:
        with self.runtime.unit_of_work(read_only=True) as uow:
            return uow.tenant(self.merchant_id).customers.by_link(self.shop_id, str(remote_id))

    def all_customers(self) -> dict[str, Customer]:
        """Core's customers of this merchant keyed by their id in the simulated shop."""
        return linked_customers(self.runtime.engine, self.merchant_id, self.shop_id)


def differences(stack: Stack) -> list[str]:
    """Every way core disagrees with the simulated shop, as readable lines (empty: equal)."""
    with stack.sim.state.lock:
        shop = {str(c.id): store_customer(c) for c in stack.sim.state.customers.values()}
    return customer_differences(shop, stack.all_customers())


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
        settings = ShopifyHarness(sim).app_settings()
        with running_app(database_url, tmp_path, settings, port=port, workers=workers) as app:
            merchant_id, shop_id = _install(app.runtime, sim)
            stack = Stack(sim, app, merchant_id, shop_id)
            stack.gateway.register_webhooks(stack.access(), f"{stack.url}/webhooks/shopify")
            yield stack


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
