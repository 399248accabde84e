"""HTTP face of the Admin API: version routing, faults, token auth, then GraphQL."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from patronkit.adapters.simulation import Fault

from .context import RequestContext

if TYPE_CHECKING:
    from .shop import Shop

API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
# An error message, not a secret.
INVALID_TOKEN_MESSAGE = (
    "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105
)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["X-Request-Id"] = str(uuid.uuid4())
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def fault_response(fault: Fault) -> Response:
    if fault.status == 429:
        return json_response(
            {
                "errors": "Exceeded 2 calls per second for api client. "
                "Reduce request rates to resume uninterrupted service."
            },
            429,
            {"Retry-After": f"{fault.retry_after:.1f}"},
        )
    if fault.status == 500:
        return json_response({"errors": "Internal Server Error"}, 500)
    # Gateways in front of Shopify answer 502/503 with an HTML page, not JSON.
    title = "502 Bad Gateway" if fault.status == 502 else "503 Service Unavailable"
    html = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    headers = {"Retry-After": f"{fault.retry_after:.0f}"} if fault.status == 503 else {}
    response = Response(html, status=fault.status, mimetype="text/html", headers=headers)
    return response


def create_admin_api_blueprint(shop: Shop) -> Blueprint:
    blueprint = Blueprint("shopify_sim_admin_api", __name__)

    @blueprint.post("/admin/api/<version>/graphql.json")
    def graphql(version: str) -> Response:
        shop.stats.count("requests")
        shop.stats.count("graphql_requests")
        if not API_VERSION.match(version):
            return json_response({"errors": "Not Found"}, 404)
        fault, ignored_retry_after = shop.faults.take()
        if ignored_retry_after:
            shop.stats.count("retry_after_ignored")
        if fault is not None:
            shop.stats.count(f"fault_{fault.status}")
            return fault_response(fault)
        token = request.headers.get("X-Shopify-Access-Token", "")
        with shop.state.lock:
            grant = shop.state.access_tokens.get(token)
        if grant is None or (grant.expires_at is not None and grant.expires_at < time.time()):
            shop.stats.count("unauthorized")
            return json_response({"errors": INVALID_TOKEN_MESSAGE}, 401)
        if request.mimetype == "application/graphql":
            payload: Any = {"query": request.get_data(as_text=True)}
        else:
            payload = request.get_json(silent=True)
        context = RequestContext(
            shop=shop, scopes=frozenset(grant.scopes), base_url=request.host_url.rstrip("/")
        )
        result = shop.graphql.handle(payload, context)
        return json_response(result.body, result.status)

    return blueprint
