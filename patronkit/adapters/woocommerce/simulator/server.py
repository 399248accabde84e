"""Run the simulator: a Flask app on a threaded werkzeug server on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from patronkit.adapters.simulation import LoopbackServer

from . import rest_coupons, rest_customers, rest_orders, rest_system, rest_webhooks
from .config import SimulatorConfig
from .consent import read_consent
from .control import create_control_blueprint
from .errors import RestError, error_response
from .rest_common import REST_PREFIX, before_rest_request, no_route
from .state import StoreState
from .store import Store
from .wc_auth import create_wc_auth_blueprint
from .webhooks import DeliveryRecord


def create_app(store: Store) -> Flask:
    app = Flask("woocommerce_simulator")
    app.config["MAX_CONTENT_LENGTH"] = 4 * 1024 * 1024
    app.url_map.strict_slashes = False

    app.before_request(lambda: before_rest_request(store))

    @app.errorhandler(RestError)
    def rest_error(error: RestError) -> Response:
        if "per_page" in error.extra.get("params", {}):
            store.stats.count("violation:per_page_out_of_bounds")
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if request.path.startswith(REST_PREFIX) and error.code in (404, 405):
            return no_route()
        return error

    wc = Blueprint("woocommerce_sim_rest", __name__, url_prefix="/wp-json/wc/v3")
    for module in (rest_customers, rest_orders, rest_coupons, rest_webhooks, rest_system):
        module.register(wc, store)
    root = Blueprint("woocommerce_sim_root", __name__)
    rest_system.register_root(root, store)
    app.register_blueprint(wc)
    app.register_blueprint(root)
    app.register_blueprint(create_wc_auth_blueprint(store))
    app.register_blueprint(create_control_blueprint(store))
    return app


class WooCommerceSimulator(LoopbackServer):
    """One simulated store served over HTTP on 127.0.0.1 (a free port unless given). Its
    `url` is the store's home URL (what a merchant types in to connect the store)."""

    thread_name = "woocommerce-simulator"

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
        self.store = Store(self.config)
        super().__init__(create_app(self.store), host=host, port=port)

    def _bound(self) -> None:
        # The site's home URL: OAuth base strings and webhook sources are built from it.
        self.store.home_url = self.url

    def _close(self) -> None:
        self.store.close()

    # -- what clients and tests need ---------------------------------------------------

    @property
    def rest_url(self) -> str:
        return f"{self.url}/wp-json/wc/v3"

    @property
    def state(self) -> StoreState:
        """Direct access to store data; hold `state.lock` while reading."""
        return self.store.state

    def create_api_key(self, permissions: str = "read_write") -> tuple[str, str]:
        """Skip the key exchange: (consumer_key, consumer_secret) of a new key."""
        key = self.store.create_api_key(permissions)
        return str(key["consumer_key"]), str(key["consumer_secret"])

    def consent_of(self, customer_id: int) -> dict[str, Any]:
        """Read back patronkit's consent meta of a customer, channel -> value (or None)."""
        with self.state.lock:
            customer = self.store.customers.get(customer_id)
            return read_consent([(m.key, m.value) for m in customer.meta])

    def inject_faults(self, status: int, count: int = 1, retry_after: float = 2.0) -> None:
        self.store.faults.plan(status, count, retry_after)

    def configure_webhooks(self, **settings: Any) -> None:
        self.store.dispatcher.configure(settings)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        return self.store.dispatcher.wait_idle(timeout)

    def deliveries(self) -> list[DeliveryRecord]:
        return self.store.dispatcher.records()

    def stats(self) -> dict[str, Any]:
        return {"api": self.store.stats.snapshot(), "deliveries": self.store.dispatcher.stats()}


@contextmanager
def running_simulator(
    config: SimulatorConfig | None = None, **overrides: Any
) -> Iterator[WooCommerceSimulator]:
    """Start a simulator for the duration of a with-block."""
    simulator = WooCommerceSimulator(config, **overrides)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()
