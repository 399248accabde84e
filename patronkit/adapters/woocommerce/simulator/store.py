"""One simulated WordPress + WooCommerce site: its data and the parts around it."""

from __future__ import annotations

import random
from typing import Any

from .auth import Authenticator, create_api_key
from .config import SimulatorConfig
from .coupons import CouponActions
from .customers import CustomerActions
from .faults import FaultInjector, RequestStats
from .formats import now_utc
from .orders import OrderActions
from .payloads import SiteView, coupon_json, customer_json, order_json, rest_error_payload
from .seed import SEED_ANCHOR, seed_customers, seed_orders
from .state import ADMIN_USER_ID, Customer, StoreState
from .webhook_admin import WebhookAdmin
from .webhooks import SiteIdentity, WebhookDispatcher

ADMIN_EMAIL = "admin@store.example"


class Store:
    """Store data, the actions that change it, webhooks, keys, faults and counters."""

    def __init__(self, config: SimulatorConfig, home_url: str = "http://127.0.0.1") -> None:
        self.config = config
        self.home_url = home_url  # the server sets the real one once its port is known
        self.state = StoreState()
        self.faults = FaultInjector()
        self.stats = RequestStats()
        self.dispatcher = WebhookDispatcher(
            self.state,
            self.build_webhook_payload,
            self.identity,
            settings=config.webhook_settings,
            workers=config.webhook_workers,
        )
        self.customers = CustomerActions(self.state, self.dispatcher, config)
        self.orders = OrderActions(self.state, self.dispatcher, config, self.customers)
        self.coupons = CouponActions(self.state, self.dispatcher, config)
        self.webhooks = WebhookAdmin(self.state, self.dispatcher)
        self.authenticator = Authenticator(self.state)
        self._install()
        self.seed(config.customers, config.orders, config.seed)

    # -- views of the site ---------------------------------------------------------------

    def site_view(self) -> SiteView:
        return SiteView(self.home_url, self.config.zone, self.config.currency_symbol)

    def identity(self) -> SiteIdentity:
        return SiteIdentity(
            home_url=self.home_url,
            wc_version=self.config.wc_version,
            wp_version=self.config.wp_version,
            salt=self.config.site_salt,
            block_unsafe_urls=self.config.block_unsafe_urls,
        )

    def build_webhook_payload(self, resource: str, event: str, resource_id: int) -> Any:
        """The REST API's answer for the resource now, or {"id": N} for deleted events."""
        if event == "deleted":
            return {"id": resource_id}
        site = self.site_view()
        with self.state.lock:
            if resource == "customer":
                customer = self.state.customers.get(resource_id)
                if customer is not None:
                    return customer_json(customer, site)
                return rest_error_payload(
                    "woocommerce_rest_invalid_id", "Invalid resource ID.", 404
                )
            if resource == "order":
                order = self.state.orders.get(resource_id)
                if order is not None:
                    return order_json(order, site)
                return rest_error_payload(
                    "woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404
                )
            if resource == "coupon":
                coupon = self.state.coupons.get(resource_id)
                if coupon is not None:
                    return coupon_json(coupon, site)
                return rest_error_payload(
                    "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", 404
                )
        return rest_error_payload(f"woocommerce_rest_{resource}_invalid_id", "Invalid ID.", 404)

    # -- data ----------------------------------------------------------------------------

    def _install(self) -> None:
        """The site admin (user 1) who owns API keys and webhooks; not a customer."""
        with self.state.lock:
            admin_id = self.state.next_user_id()
            assert admin_id == ADMIN_USER_ID
            self.state.customers[admin_id] = Customer(
                id=admin_id,
                email=ADMIN_EMAIL,
                username="admin",
                role="administrator",
                date_created=SEED_ANCHOR.replace(year=2023),
                last_update=None,
                display_name="admin",
            )

    def seed(self, customers: int, orders: int = 0, seed: int | None = None) -> None:
        """Add sample customers and orders silently (data from before anyone connected)."""
        # Sample data, not security: a seeded PRNG is the point.
        rng = random.Random(self.config.seed if seed is None else seed)  # noqa: S311
        with self.state.lock:
            seed_customers(self.state, customers, rng)
            seed_orders(self.state, orders, rng, self.config.currency)

    def reset(self, customers: int = 0, orders: int = 0, seed: int | None = None) -> None:
        """Back to a fresh install (no keys, no webhooks), optionally re-seeded."""
        self.dispatcher.clear_queue()
        self.dispatcher.wait_idle(5)
        self.state.clear()
        self.faults.clear()
        self.stats.reset()
        self.dispatcher.reset_stats()
        self._install()
        self.seed(customers, orders, seed)

    def create_api_key(
        self, permissions: str = "read_write", description: str = ""
    ) -> dict[str, Any]:
        key, consumer_key = create_api_key(
            self.state, permissions, description or f"Simulator key ({now_utc():%Y-%m-%d %H:%M:%S})"
        )
        return {
            "key_id": key.key_id,
            "user_id": key.user_id,
            "consumer_key": consumer_key,
            "consumer_secret": key.consumer_secret,
            "key_permissions": key.permissions,
        }

    def close(self) -> None:
        self.dispatcher.stop()
