"""Run the simulator: a Flask app on a werkzeug server in a background thread."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from patronkit.adapters.simulation import LoopbackServer

from .actions import ShopActions
from .admin_api import create_admin_api_blueprint
from .control import create_control_blueprint
from .oauth import create_oauth_blueprint, issue_offline_token, mint_session_token
from .shop import Shop, SimulatorConfig
from .state import ShopState
from .storefront import create_storefront_blueprint
from .throttle import THROTTLE_PRESETS

DEFAULT_API_VERSION = "2025-07"


def create_app(shop: Shop) -> Flask:
    app = Flask("shopify_simulator")
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.register_blueprint(create_oauth_blueprint(shop))
    app.register_blueprint(create_admin_api_blueprint(shop))
    app.register_blueprint(create_control_blueprint(shop))
    app.register_blueprint(create_storefront_blueprint(shop))
    return app


class ShopifySimulator(LoopbackServer):
    """One simulated shop served over HTTP on 127.0.0.1 (a free port unless given)."""

    thread_name = "shopify-simulator"

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **overrides: Any,
    ) -> None:
        base = config or SimulatorConfig()
        self.config = dataclasses.replace(base, **overrides) if overrides else base
        self.shop = Shop(self.config)
        super().__init__(create_app(self.shop), host=host, port=port)

    def _close(self) -> None:
        self.shop.close()

    # -- what clients need ---------------------------------------------------------

    @property
    def shop_domain(self) -> str:
        return self.config.shop_domain

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    @property
    def state(self) -> ShopState:
        """Direct access to shop data; hold `state.lock` while reading."""
        return self.shop.state

    @property
    def actions(self) -> ShopActions:
        """Act as the merchant in-process (same effects and webhooks as the control API)."""
        return self.shop.actions

    def graphql_url(self, api_version: str = DEFAULT_API_VERSION) -> str:
        return f"{self.url}/admin/api/{api_version}/graphql.json"

    def install_app(self, scopes: tuple[str, ...] | None = None) -> str:
        """Skip the OAuth dance: returns an offline access token."""
        return issue_offline_token(self.shop, scopes)

    def mint_session_token(self, **kwargs: Any) -> str:
        return mint_session_token(self.shop, **kwargs)

    def set_throttle(
        self,
        preset: str | None = None,
        *,
        maximum_available: float | None = None,
        restore_rate: float | None = None,
    ) -> None:
        if preset is not None:
            maximum_available, restore_rate = THROTTLE_PRESETS[preset]
        if maximum_available is None or restore_rate is None:
            raise ValueError("give a preset or both maximum_available and restore_rate")
        self.shop.bucket.configure(maximum_available, restore_rate)

    def inject_faults(self, status: int, count: int = 1, retry_after: float = 2.0) -> None:
        self.shop.faults.plan(status, count, retry_after)

    def configure_webhooks(self, **settings: Any) -> None:
        self.shop.dispatcher.configure(settings)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.shop.dispatcher.wait_idle(timeout)

    def stats(self) -> dict[str, Any]:
        return {
            "api": self.shop.stats.snapshot(),
            "webhooks": self.shop.dispatcher.stats(),
            "throttle": self.shop.bucket.status().as_extension(),
        }


@contextmanager
def running_simulator(
    config: SimulatorConfig | None = None, **overrides: Any
) -> Iterator[ShopifySimulator]:
    """Start a simulator for the duration of a with-block."""
    simulator = ShopifySimulator(config, **overrides)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()
