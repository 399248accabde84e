"""Acceptance: one merchant, a Shopify shop and a WooCommerce store sharing customers (same
emails). Over real HTTP, both simulators, our app and a real `patronkit worker` process:

- the Shopify shop is installed through OAuth; its admin then asks for a "link to merchant"
  and installs the WooCommerce store through /wc-auth with it, so both are one merchant's;
- after both imports, each shared person is one customer in core, linked in both stores,
  and both stores hold core's consent for them;
- a consent given in Shopify reaches WooCommerce's consent meta, and a withdrawal made in
  WooCommerce reaches Shopify as UNSUBSCRIBED, each within seconds.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from tests.conformance.connected import Connected, install
from tests.conformance.harness import StoreConsent, StoreSpec
from tests.conformance.shopify import ShopifyHarness
from tests.conformance.woocommerce import WooCommerceHarness
from tests.e2e.app import RunningApp, free_port, running_app, wait_for
from tests.worker_process import WorkerProcess

SHARED = 12  # people with an account in both stores
ARRIVES_WITHIN = 20.0  # seconds; "within seconds", with room for a busy CI machine


@dataclass
class Merchant:
    app: RunningApp
    shopify: Connected
    woocommerce: Connected
    shared: dict[str, tuple[str, str]]  # email -> (Shopify id, WooCommerce id)

    def settle(self) -> None:
        self.app.settle(self.shopify.harness.webhooks_idle, self.woocommerce.harness.webhooks_idle)


def open_accounts_in_woocommerce(
    shopify: ShopifyHarness, woocommerce: WooCommerceHarness, count: int
) -> dict[str, tuple[str, str]]:
    """Shopify customers who also register in the WooCommerce store, same email and name."""
    shared: dict[str, tuple[str, str]] = {}
    for remote_id, customer in shopify.snapshot().items():
        if len(shared) == count:
            break
        if customer.email and customer.consents.get(Channel.EMAIL) is not None:
            woo_id = woocommerce.create_customer(
                customer.email, customer.first_name or "", customer.last_name or ""
            )
            shared[customer.email] = (remote_id, woo_id)
    assert len(shared) == count
    return shared


def link_to_merchant(app: RunningApp, shopify: ShopifyHarness, store_url: str) -> str:
    """The Shopify shop's admin (proven by an App Bridge session token) asks for an install
    URL that connects a WooCommerce store to the same merchant."""
    response = requests.post(
        f"{app.url}/install/woocommerce/link",
        json={"shop": store_url},
        headers={"Authorization": f"Bearer {shopify.sim.mint_session_token()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["install_url"]
    return url


@pytest.fixture
def merchant(database_url: str, tmp_path: Path, clean_db: object) -> Iterator[Merchant]:
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        shopify = stack.enter_context(ShopifyHarness.running(StoreSpec(app_url, 60, seed=3)))
        woocommerce = stack.enter_context(
            WooCommerceHarness.running(StoreSpec(app_url, 40, seed=4))
        )
        shared = open_accounts_in_woocommerce(shopify, woocommerce, SHARED)
        settings = {**shopify.app_settings(), **woocommerce.app_settings()}
        app = stack.enter_context(
            running_app(database_url, tmp_path, settings, port=port, workers=0)
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATRONKIT_")}
        worker = WorkerProcess({**env, **app.env}, tmp_path / "worker.log")
        stack.callback(lambda: print(worker.log.read_text()[-4000:]))  # shown on failure
        stack.callback(worker.stop)

        shopify_shop = install(shopify, app)
        link = link_to_merchant(app, shopify, woocommerce.shop_address())
        woocommerce_shop = install(woocommerce, app, begin_url=link)
        yield Merchant(
            app,
            Connected(shopify, app, shopify_shop),
            Connected(woocommerce, app, woocommerce_shop),
            shared,
        )


def consent_in(store: Connected, remote_id: str) -> StoreConsent | None:
    return store.harness.consent(remote_id, Channel.EMAIL)


def give(store: Connected, remote_id: str, consent: StoreConsent) -> None:
    """The shopper (or staff) sets the email consent in that store."""
    store.harness.set_consent(remote_id, Channel.EMAIL, consent.state, consent.opt_in_level)


def arrival(store: Connected, remote_id: str, expected: StoreConsent, started: float) -> float:
    """Seconds from `started` until `store` holds `expected` for the customer."""
    wait_for(
        lambda: consent_in(store, remote_id) == expected,
        timeout=ARRIVES_WITHIN,
        what=f"{store.harness.platform} customer {remote_id} to hold {expected}",
    )
    return time.monotonic() - started


def test_consent_travels_between_a_shopify_and_a_woocommerce_store(merchant: Merchant) -> None:
    app, shopify, woocommerce = merchant.app, merchant.shopify, merchant.woocommerce
    assert woocommerce.shop.merchant_id == shopify.shop.merchant_id  # one merchant, two stores

    for store in (shopify, woocommerce):  # `patronkit import`, once per store
        store.sync(full=True)
    merchant.settle()

    # Each shared person is one customer in core, linked in both stores, and the WooCommerce
    # store now holds the consent they gave in Shopify (pushed when they were linked there).
    in_shopify, in_woocommerce = shopify.core_customers(), woocommerce.core_customers()
    for shopify_id, woo_id in merchant.shared.values():
        assert in_shopify[shopify_id].id == in_woocommerce[woo_id].id
        assert consent_in(woocommerce, woo_id) == consent_in(shopify, shopify_id) is not None

    subscribed = StoreConsent(ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)
    withdrawn = StoreConsent(ConsentState.UNSUBSCRIBED, OptInLevel.SINGLE)
    held = {email: consent_in(shopify, ids[0]) for email, ids in merchant.shared.items()}
    # (Consent times have whole seconds and a tie goes to the withdrawal: people whose
    # present state makes each step a change, rather than preparing them in the same second.)
    ana = next(email for email, consent in held.items() if consent != subscribed)
    ben = next(
        email
        for email, consent in held.items()
        if consent is not None and consent.state is ConsentState.SUBSCRIBED and email != ana
    )

    # Ana subscribes in the Shopify shop: the WooCommerce store hears of it.
    shopify_id, woo_id = merchant.shared[ana]
    started = time.monotonic()
    give(shopify, shopify_id, subscribed)
    to_woocommerce = arrival(woocommerce, woo_id, subscribed, started)

    # Ben, subscribed in both stores, withdraws in the WooCommerce store (the storefront
    # plugin writes the consent meta): the Shopify shop shows UNSUBSCRIBED.
    shopify_id, woo_id = merchant.shared[ben]
    assert consent_in(woocommerce, woo_id) == held[ben]
    started = time.monotonic()
    give(woocommerce, woo_id, withdrawn)
    to_shopify = arrival(shopify, shopify_id, withdrawn, started)

    merchant.settle()
    assert consent_in(woocommerce, woo_id) == withdrawn  # the echo from Shopify changed nothing
    with app.runtime.unit_of_work(read_only=True) as uow:
        customers = uow.tenant(shopify.shop.merchant_id).customers
        ben_in_core = customers.by_email(ben)
    assert ben_in_core is not None
    status = ben_in_core.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.UNSUBSCRIBED
    print(f"Shopify → WooCommerce {to_woocommerce:.2f}s, WooCommerce → Shopify {to_shopify:.2f}s")
