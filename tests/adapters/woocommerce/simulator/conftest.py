"""Fixtures: a running simulator, API keys, the woocommerce client, an HTTP receiver.

OAuth signing here is written from WooCommerce's documentation, independently of the
simulator's verifier, so a mistake on either side shows up as a failing test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response
from woocommerce import API

from patronkit.adapters.woocommerce.simulator import WooCommerceSimulator, running_simulator


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def is_ping(self) -> bool:
        return "X-Wc-Webhook-Topic" not in self.headers


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class Receiver:
    """A local HTTP endpoint that records requests and answers as told."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    respond: Callable[[Received], int] = lambda request: 200
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        record = Received(request.method, request.path, dict(request.headers), request.get_data())
        with self._lock:
            self.received.append(record)
        status = self.respond(record)
        headers = {"Location": "/elsewhere"} if status in (301, 302) else {}
        return Response("ok", status=status, headers=headers)(environ, start_response)

    def deliveries(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if not r.is_ping]

    def pings(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.is_ping]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = make_server("127.0.0.1", 0, receiver.app, threaded=True, request_handler=_Quiet)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def simulator() -> Iterator[WooCommerceSimulator]:
    with running_simulator(customers=45, orders=30, seed=7, callback_requires_https=False) as sim:
        yield sim


@pytest.fixture
def keys(simulator: WooCommerceSimulator) -> tuple[str, str]:
    return simulator.create_api_key("read_write")


@pytest.fixture
def wcapi(simulator: WooCommerceSimulator, keys: tuple[str, str]) -> API:
    return API(
        url=simulator.url,
        consumer_key=keys[0],
        consumer_secret=keys[1],
        version="wc/v3",
        timeout=15,
    )


def _enc(value: str) -> str:
    """PHP rawurlencode(): RFC 3986 unreserved characters stay, the rest is %XX."""
    return quote(value, safe="-_.~")


def oauth_params(
    method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    params: dict[str, str] | None = None,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    algorithm: str = "HMAC-SHA256",
) -> dict[str, str]:
    """Query parameters plus oauth_* ones, signed as WooCommerce's docs describe."""
    signed = dict(params or {})
    signed.update(
        oauth_consumer_key=consumer_key,
        oauth_timestamp=str(int(time.time()) if timestamp is None else timestamp),
        oauth_nonce=nonce or secrets.token_hex(16),
        oauth_signature_method=algorithm,
    )
    # Encode each key and value, sort by key, join as k=v with &, then encode the whole.
    pairs = sorted((_enc(k), _enc(v)) for k, v in signed.items())
    parameter_string = "&".join(f"{k}={v}" for k, v in pairs)
    base = f"{method.upper()}&{_enc(url)}&{_enc(parameter_string)}"
    digest = hashlib.sha256 if algorithm == "HMAC-SHA256" else hashlib.sha1
    mac = hmac.new(f"{consumer_secret}&".encode(), base.encode(), digest).digest()
    signed["oauth_signature"] = base64.b64encode(mac).decode()
    return signed


def signed_url(
    simulator: WooCommerceSimulator,
    method: str,
    route: str,
    keys: tuple[str, str],
    params: dict[str, str] | None = None,
    **options: Any,
) -> str:
    url = f"{simulator.rest_url}/{route}"
    return f"{url}?{urlencode(oauth_params(method, url, keys[0], keys[1], params, **options))}"
