"""POST /webhooks/<platform>: verify on the raw bytes, store in the inbox, answer at once.

No platform API call and no payload parsing happen here: a worker applies the delivery.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from patronkit.core.storefront import InvalidWebhook, ShopAccess
from patronkit.sync.inbox import Delivery
from patronkit.webapp.services import runtime

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<platform>")
def receive(platform: str) -> ResponseReturnValue:
    run = runtime()
    gateway = run.gateways.get(platform)
    if gateway is None:
        abort(404)
    body = request.get_data(cache=False)  # raw bytes: the signature covers exactly these
    headers = dict(request.headers.items())  # adapters match names case-insensitively
    try:
        envelope = gateway.identify_webhook(headers)
    except InvalidWebhook as exc:
        return jsonify(error="not a webhook", detail=str(exc)), 400
    with run.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain(platform, envelope.shop_domain)
    if shop is None:
        return jsonify(error="unknown shop"), 404
    access = ShopAccess(
        shop.domain,
        shop.api_url,
        shop.credentials(run.sealer) if shop.sealed_credentials else {},
    )
    if not gateway.verify_webhook(body, headers, access):
        log.info("webhook with a bad signature refused (platform %s)", platform)
        return jsonify(error="invalid signature"), 401
    delivery = Delivery(
        shop=shop,
        delivery_key=gateway.delivery_key(headers, body),
        topic=envelope.topic,
        body=body,
        triggered_at=envelope.triggered_at,
    )
    fresh = run.sync.receive(delivery)
    return jsonify(status="accepted" if fresh else "duplicate"), 200
