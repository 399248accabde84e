"""What every /wp-json request goes through before and around its controller.

The order is WordPress's: the host's faults first, then WooCommerce authentication
(a bad signature fails even for a route that does not exist), the key's read/write
permission, route matching, argument validation, the endpoint's permission check (no
credentials at all -> woocommerce_rest_cannot_*), and only then the controller.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from flask import Response, g, request

from .auth import AuthError, RequestCredentials, check_key_permissions, php_query_params
from .errors import RestError, error_response, invalid_param, json_response
from .pagination import Page, page_headers, php_query_pairs
from .state import ApiKey

if TYPE_CHECKING:
    from .store import Store

REST_PREFIX = "/wp-json/"
WC_PREFIX = "/wp-json/wc/"

_DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
    "batch": (
        "woocommerce_rest_cannot_batch",
        "Sorry, you are not allowed to batch manipulate this resource.",
    ),
}
_AUTH_VIOLATIONS = {
    "Invalid nonce - nonce has already been used.": "nonce_replayed",
    "Invalid timestamp.": "timestamp_out_of_window",
}
_HOST_ERROR_PAGE = "<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"


def _form_params() -> dict[str, Any]:
    if request.mimetype == "application/x-www-form-urlencoded":
        return php_query_params(request.get_data(as_text=True))
    return {}


def credentials(store: Store) -> RequestCredentials:
    home = urlsplit(store.home_url)
    scheme = "https" if store.config.assume_https else "http"
    return RequestCredentials(
        method=request.method,
        url_without_query=f"{scheme}://{home.netloc}{request.path}",
        query_params=php_query_params(request.query_string.decode("utf-8", "replace")),
        form_params=_form_params(),
        authorization=request.headers.get("Authorization", ""),
    )


def before_rest_request(store: Store) -> Response | None:
    """App-level hook for /wp-json paths; a returned response ends the request."""
    if not request.path.startswith(REST_PREFIX):
        return None
    store.stats.count("requests")
    store.stats.count("rest_requests")
    fault, ignored_retry_after = store.faults.take()
    if ignored_retry_after:
        store.stats.count("violation:retry_after_ignored")
    if fault is not None:
        store.stats.count(f"fault:{fault.status}")
        page = _HOST_ERROR_PAGE.format(status=fault.status)
        response = Response(page, status=fault.status, mimetype="text/html")
        if fault.status in (429, 503):
            response.headers["Retry-After"] = str(max(1, round(fault.retry_after)))
        return response
    g.api_key = None
    if not request.path.startswith(WC_PREFIX):
        return None  # WooCommerce authenticates only its own namespaces
    try:
        key = store.authenticator.authenticate(credentials(store), https=store.config.assume_https)
        if key is not None:
            check_key_permissions(key, request.method)
    except AuthError as error:
        store.stats.count(f"auth_failure:{error.message}")
        violation = _AUTH_VIOLATIONS.get(error.message)
        if violation:
            store.stats.count(f"violation:{violation}")
        return json_response(
            {"code": error.code, "message": error.message, "data": {"status": error.status}},
            error.status,
        )
    g.api_key = key
    return None


def require_key(action: str) -> ApiKey:
    """The endpoint's permission callback: with no authenticated key, 401."""
    key: ApiKey | None = g.get("api_key")
    if key is None:
        code, message = _DENIED[action]
        raise RestError(code, message, 401)
    return key


def params() -> dict[str, Any]:
    """WP_REST_Request parameters: JSON body over form body over query string."""
    merged = php_query_params(request.query_string.decode("utf-8", "replace"))
    merged.update(_form_params())
    if request.mimetype == "application/json" and request.get_data():
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            raise RestError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                {"json_error_code": 4, "json_error_message": "Syntax error"},
            ) from None
        if isinstance(body, dict):
            merged.update(body)
    return merged


def required_param(values: dict[str, Any], name: str) -> str:
    text = str(values.get(name) or "").strip()
    if not text:
        raise RestError(
            "rest_missing_callback_param", f"Missing parameter(s): {name}", 400, {"params": [name]}
        )
    return text


def enum_param(values: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    if str(raw) not in allowed:
        raise invalid_param(name, f"{name} is not one of {', '.join(allowed)}.", "rest_not_in_enum")
    return str(raw)


def bool_param(values: dict[str, Any], name: str) -> bool:
    raw = values.get(name)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if raw is not None else ""
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise invalid_param(name, f"{name} is not of type boolean.", "rest_invalid_type")


def id_list(values: dict[str, Any], name: str) -> list[int]:
    """wp_parse_id_list(): comma-separated or array input."""
    raw = values.get(name)
    if raw is None or raw == "":
        return []
    items = (
        raw.values()
        if isinstance(raw, dict)
        else raw
        if isinstance(raw, list)
        else str(raw).split(",")
    )
    result = []
    for item in items:
        text = str(item).strip()
        if text.lstrip("-").isdigit():
            result.append(abs(int(text)))
    return result


def collection_response(store: Store, route: str, result: Page, items: list[Any]) -> Response:
    query_pairs = php_query_pairs(
        parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True)
    )
    url = store.site_view().rest_url(route)
    return json_response(items, 200, page_headers(result, url, query_pairs))


def rest_error_handler(error: RestError) -> Response:
    return error_response(error)


def no_route() -> Response:
    return error_response(
        RestError("rest_no_route", "No route was found matching the URL and request method.", 404)
    )
