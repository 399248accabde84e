"""Run the simulator: a Flask app on a threaded werkzeug server on loopback."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

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


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines carry OAuth signatures, keys and email addresses."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


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


class WooCommerceSimulator:
    """One simulated store served over HTTP on 127.0.0.1 (a free port unless given)."""

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
        self.app = create_app(self.store)
        self._host = host
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def bind(self) -> BaseWSGIServer:
        """Open the listening socket (so `url` is known) without serving yet."""
        if self._server is None:
            self._server = make_server(
                self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler
            )
            self._port = self._server.server_port
            # The site's home URL: OAuth base strings and webhook sources are built from it.
            self.store.home_url = self.url
        return self._server

    def start(self) -> WooCommerceSimulator:
        server = self.bind()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown for tests
            name="woocommerce-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Blocking variant for the command line."""
        server = self.bind()
        try:
            server.serve_forever()
        finally:
            self.store.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> WooCommerceSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients and tests need ---------------------------------------------------

    @property
    def url(self) -> str:
        """The store's home URL (what a merchant types in to connect the store)."""
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

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
