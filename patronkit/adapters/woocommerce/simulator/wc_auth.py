"""/wc-auth/v1/: the app key exchange of class-wc-auth.php.

GET /wc-auth/v1/authorize?app_name&scope&user_id&return_url&callback_url validates its
parameters (all required; scope read|write|read_write; both URLs valid after one more
urldecode and an "https://" prefix when they have no scheme; callback_url must be
https:// unless `callback_requires_https` is off), then shows the grant page. Approving
(the page's link to access_granted, carrying a nonce) creates a key with the scope's
permissions and POSTs {key_id, user_id, consumer_key, consumer_secret, key_permissions}
as JSON to callback_url, server to server with no cookies. Only a 200 answer counts:
then the browser is redirected to return_url with success=1&user_id=…; anything else
deletes the key again and shows "Error: …" with status 401. Denying links to return_url
with success=0.

The simulator treats the browser as the logged-in shop admin (the real flow would ask it
to log in first), and with `auto_approve` it approves at once.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import time
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote_plus, urlencode, urlsplit

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from . import outbound
from .formats import now_utc, php_json

if TYPE_CHECKING:
    from .store import Store

SCOPES = {"read": "Read", "write": "Write", "read_write": "Read/Write"}
PERMISSIONS_IN_SCOPE = {
    "read": ["View coupons", "View customers", "View orders and sales reports", "View products"],
    "write": [
        "Create webhooks",
        "Create coupons",
        "Create customers",
        "Create orders",
        "Create products",
    ],
    "read_write": [
        "Create webhooks",
        "View and manage coupons",
        "View and manage customers",
        "View and manage orders and sales reports",
        "View and manage products",
    ],
}
PARAMS = ("app_name", "user_id", "return_url", "callback_url", "scope")
NONCE_ACTION = "wc_auth_grant_access"


class AuthDenied(Exception):
    pass


def formatted_url(url: str) -> str:
    """get_formatted_url(): urldecode() once more, default the scheme to https."""
    url = unquote_plus(url)
    return url if "://" in url else "https://" + url


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme and parts.netloc)


def with_query(url: str, **values: str) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(values, quote_via=quote)


def _nonce(salt: str, tick: int) -> str:
    """wp_create_nonce(): valid for the current and the previous 12-hour tick."""
    message = f"{tick}|{NONCE_ACTION}|1".encode()
    return hmac.new(salt.encode(), message, hashlib.md5).hexdigest()[-12:-2]


def _tick() -> int:
    return math.ceil(time.time() / (86400 / 2))


def _die(message: str) -> Response:
    page = (
        "<!DOCTYPE html><html><head><title>Access denied</title></head><body>"
        f"<p>Error: {html.escape(message)}.</p></body></html>"
    )
    return Response(page, status=401, mimetype="text/html")


def create_wc_auth_blueprint(store: Store) -> Blueprint:
    bp = Blueprint("woocommerce_sim_wc_auth", __name__, url_prefix="/wc-auth/v1")

    def validated() -> dict[str, str]:
        data: dict[str, str] = {}
        for name in PARAMS:
            value = request.values.get(name, "")
            if not value:
                raise AuthDenied(f"Missing parameter {name}")
            data[name] = value
        if data["scope"] not in SCOPES:
            raise AuthDenied(f"Invalid scope {data['scope']}")
        for name in ("return_url", "callback_url"):
            url = formatted_url(data[name])
            if not _valid_url(url):
                raise AuthDenied(f"The {url} is not a valid URL")
        callback = formatted_url(data["callback_url"])
        if store.config.callback_requires_https and not callback.lower().startswith("https://"):
            raise AuthDenied("The callback_url needs to be over SSL")
        return data

    def build_url(data: dict[str, str], route: str, **extra: str) -> str:
        query = {
            "app_name": data["app_name"],
            "user_id": data["user_id"],
            "return_url": formatted_url(data["return_url"]),
            "callback_url": formatted_url(data["callback_url"]),
            "scope": data["scope"],
            **extra,
        }
        return f"{store.home_url.rstrip('/')}/wc-auth/v1/{route}?" + urlencode(query)

    def grant_page(data: dict[str, str]) -> Response:
        granted = build_url(
            data, "access_granted", wc_auth_nonce=_nonce(store.config.site_salt, _tick())
        )
        denied = with_query(formatted_url(data["return_url"]), success="0", user_id=data["user_id"])
        items = "".join(f"<li>{html.escape(p)}</li>" for p in PERMISSIONS_IN_SCOPE[data["scope"]])
        page = (
            "<!DOCTYPE html><html><head><title>Grant access</title></head><body>"
            f"<h1>{html.escape(data['app_name'])} would like to connect to your store</h1>"
            f'<p>This will give "{html.escape(data["app_name"])}" '
            f"<strong>{SCOPES[data['scope']]}</strong> access which will allow it to:</p>"
            f"<ul>{items}</ul>"
            f'<p><a class="button wc-auth-deny" href="{html.escape(denied)}">Deny</a> '
            f'<a class="button button-primary wc-auth-approve" id="approve" '
            f'href="{html.escape(granted)}">Approve</a></p>'
            "</body></html>"
        )
        return Response(page, mimetype="text/html")

    def grant(data: dict[str, str]) -> BaseResponse:
        key = store.create_api_key(
            data["scope"], f"{data['app_name'][:170]} - API ({now_utc():%Y-%m-%d %H:%M:%S})"
        )
        # The app's own user id goes back as the string it came in as.
        consumer_data = {**key, "user_id": data["user_id"]}
        site = store.identity()
        result = outbound.post(
            formatted_url(data["callback_url"]),
            php_json(consumer_data).encode("utf-8"),
            {
                "Content-Type": "application/json;charset=UTF-8",
                "User-Agent": f"WordPress/{site.wp_version}; {site.home_url.rstrip('/')}/",
            },
            timeout=60,
            follow_redirects=True,
            home_url=site.home_url,
            block_unsafe_urls=site.block_unsafe_urls,
        )
        store.stats.count("key_exchange_callbacks")
        if result.status != 200:
            with store.state.lock:  # maybe_delete_key()
                store.state.api_keys.pop(int(key["key_id"]), None)
            if result.status is None:
                raise AuthDenied(result.error or "A valid URL was not provided.")
            raise AuthDenied(
                "An error occurred in the request and at the time were unable to send "
                "the consumer data"
            )
        target = with_query(formatted_url(data["return_url"]), success="1", user_id=data["user_id"])
        return redirect(target, 302)

    @bp.route("/<route>", methods=["GET", "POST"])
    def auth_endpoint(route: str) -> BaseResponse:
        store.stats.count("requests")
        try:
            data = validated()
            route = route.lower()
            if route == "login":
                return redirect(build_url(data, "authorize"), 302)  # already logged in
            if route == "authorize":
                return grant(data) if store.config.auto_approve else grant_page(data)
            if route == "access_granted":
                nonce = request.args.get("wc_auth_nonce", "")
                tick = _tick()
                valid = {_nonce(store.config.site_salt, t) for t in (tick, tick - 1)}
                if nonce not in valid:
                    raise AuthDenied("Invalid nonce verification")
                return grant(data)
            raise AuthDenied("You do not have permission to access this page")
        except AuthDenied as error:
            return _die(str(error))

    return bp
