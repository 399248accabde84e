"""Run the simulator: a Flask app on a werkzeug server in a background thread."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .actions import ShopActions
from .admin_api import create_admin_api_blueprint
from .control import create_control_blueprint
from .oauth import create_oauth_blueprint, issue_offline_token, mint_session_token
from .shop import Shop, SimulatorConfig
from .state import ShopState
from .storefront import create_storefront_blueprint
from .throttle import THROTTLE_PRESETS

DEFAULT_API_VERSION = "2025-07"


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines carry OAuth codes, tokens in query strings and emails."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def create_app(shop: Shop) -> Flask:
    app = Flask("shopify_simulator")
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.register_blueprint(create_oauth_blueprint(shop))
    app.register_blueprint(create_admin_api_blueprint(shop))
    app.register_blueprint(create_control_blueprint(shop))
    app.register_blueprint(create_storefront_blueprint(shop))
    return app


class ShopifySimulator:
    """One simulated shop served over HTTP on 127.0.0.1 (a free port unless given)."""

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
        self.app = create_app(self.shop)
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
        return self._server

    def start(self) -> ShopifySimulator:
        self.bind()
        assert self._server is not None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown for tests
            name="shopify-simulator",
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
            self.shop.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.shop.close()

    def __enter__(self) -> ShopifySimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ---------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

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
