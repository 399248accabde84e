"""POST /webhooks/<platform>: verify on the raw bytes, store in the inbox, answer at once.

No platform API call and no payload parsing happen here: a worker applies the delivery.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from patronkit.bootstrap import Runtime
from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.storefront import InvalidWebhook, ShopAccess
from patronkit.sync.inbox import Delivery
from patronkit.webapp.services import runtime

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


class ShopLookup:
    """Shop connections by domain, remembered for a few seconds: a busy store sends many
    webhooks a second, and each needs its connection. A stale entry only delays noticing a
    new install or an uninstall by that long; applying the delivery reads the shop afresh."""

    TTL = 5.0

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._entries: dict[tuple[str, str], tuple[float, ShopConnection | None]] = {}
        self._lock = threading.Lock()

    def find(self, platform: str, domain: str) -> ShopConnection | None:
        key = (platform, domain)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        with self.runtime.unit_of_work(read_only=True) as uow:
            shop = uow.merchants.shop_by_domain(platform, domain)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (now + self.TTL, shop)
        return shop


def _shops(run: Runtime) -> ShopLookup:
    lookup: ShopLookup | None = current_app.extensions.get("patronkit.shops")
    if lookup is None:
        lookup = current_app.extensions["patronkit.shops"] = ShopLookup(run)
    return lookup


def _raw_body() -> bytes:
    """The body as sent. Read straight from the WSGI input when its length is declared:
    werkzeug's stream wrappers cost more than the read on this endpoint."""
    length = request.content_length
    if length is None or request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and length > limit:
        abort(413)
    body: bytes = request.environ["wsgi.input"].read(length)
    return body


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The headers, names in lower case (adapters match names case-insensitively), read off
    the WSGI environ in one pass: werkzeug's view walks the whole environ on every lookup."""
    headers = {
        name[5:].replace("_", "-").lower(): value
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if name in environ:
            headers[name.replace("_", "-").lower()] = environ[name]
    return headers


# The two answers of the hot path, encoded once (jsonify was a sixth of a request's cost).
_ACCEPTED = b'{"status":"accepted"}\n'
_DUPLICATE = b'{"status":"duplicate"}\n'


@bp.post("/webhooks/<platform>")
def receive(platform: str) -> ResponseReturnValue:
    run = runtime()
    gateway = run.gateways.get(platform)
    if gateway is None:
        abort(404)
    body = _raw_body()  # the signature covers exactly these bytes
    headers = _headers(request.environ)
    if gateway.is_handshake(headers, body):
        # The platform checking that we answer (e.g. on subscription): no event, store nothing.
        return jsonify(status="ok"), 200
    try:
        envelope = gateway.identify_webhook(headers)
    except InvalidWebhook as exc:
        return jsonify(error="not a webhook", detail=str(exc)), 400
    shop = _shops(run).find(platform, envelope.shop_domain)
    if shop is None:
        return jsonify(error="unknown shop"), 404
    opened = gateway.webhook_secret_per_shop and shop.sealed_credentials
    access = ShopAccess(shop.domain, shop.api_url, shop.credentials(run.sealer) if opened else {})
    if not gateway.verify_webhook(body, headers, access):
        log.info("webhook with a bad signature refused (platform %s)", platform)
        return jsonify(error="invalid signature"), 401
    delivery = Delivery(
        shop=shop,
        delivery_key=gateway.delivery_key(envelope, body),
        topic=envelope.topic,
        body=body,
        triggered_at=envelope.triggered_at,
    )
    fresh = run.sync.receive(delivery)
    return current_app.response_class(
        _ACCEPTED if fresh else _DUPLICATE, status=200, mimetype="application/json"
    )
