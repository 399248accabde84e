"""Install and auth flows for any platform, spoken only through the storefront port.

    GET  /install/<platform>?shop=<domain>   start: signed state, 302 to the platform
    GET  /install/<platform>/callback        finish: verify, connect the shop, 302 to /admin
    POST /install/<platform>/callback        finish, server to server: verify, connect, 200
    POST /install/<platform>/session         embedded apps: session token → access token
    POST /install/<platform>/link            an admin's install URL for their next store

The platform is the URL's; its gateway does every platform-specific check (shop domain,
HMAC, timestamp, state, code or token exchange). A rejected install answers 4xx and writes
nothing. Tokens, codes, secrets and session tokens are never logged or echoed.

Two install flows (`InstallFlow`, declared by each gateway):

* BROWSER_REDIRECT: the platform sends the merchant's browser back to the GET callback. The
  state is a nonce in a signed cookie scoped to that callback.
* SERVER_POST: the platform's server posts the credentials to the POST callback, without the
  browser or its cookies, then sends the browser to the GET callback. The state travels
  through the platform instead: a value signed here (platform, store, nonce; its own salt,
  ten minutes) that the platform echoes in the posted field the gateway names. The POST
  connects the shop; the GET only lands the browser on the shop's admin page.

One merchant, several stores ("link to merchant"). A first install starts a new merchant.
To connect another store (of any platform) to an existing merchant, an admin of that merchant,
authenticated as for the embedded admin pages (``Authorization: Bearer``: a platform session
token or our admin session), asks POST /install/<platform>/link with ``shop``. The answer is
the begin URL with ``link``: the merchant, platform and store, signed (own salt, ten
minutes). Begin checks it names this platform and store and carries the merchant inside the
flow's own signed state (cookie or posted state), so the callback connects the store to that
merchant (`connect_shop(merchant_id=…)`). The link only works for the store it names, and a
store already connected to another merchant is refused (409), never moved.

Webhook registration runs after the install is committed. If it fails the install stands:
we log it and say so (``webhooks=pending``), and the next token exchange (every load of the
embedded admin) or re-install retries it, registration being idempotent. Until then, the
periodic reconcile covers the changes webhooks would have brought.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode
from uuid import UUID

from flask import Blueprint, Response, abort, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from patronkit.bootstrap import Runtime
from patronkit.core.domain.errors import NotFound
from patronkit.core.domain.values import utcnow
from patronkit.core.installs import StoreOfAnotherMerchant, connect_shop
from patronkit.core.storefront import (
    Installation,
    InstallFlow,
    InstallRejected,
    ShopAccess,
    StorefrontGateway,
)
from patronkit.webapp.admin.auth import Unauthorized, authenticate
from patronkit.webapp.services import runtime
from patronkit.webapp.signing import sign, unsign

log = logging.getLogger(__name__)
bp = Blueprint("install", __name__)

STATE_COOKIE = "patronkit_install_state"
STATE_SALT = "patronkit.install-state"
STATE_MAX_AGE_SECONDS = 600  # the merchant approves within minutes; a stale nonce is refused
# SERVER_POST flows: the state signed into the platform's round trip, never into a cookie.
POSTED_STATE_SALT = "patronkit.install-posted-state"
# Landing the browser only redirects, so it may come a little after the state expired.
LANDING_MAX_AGE_SECONDS = 3600
MAX_POSTED_FIELD = 2048  # longer than any key or token a platform posts
# "Link to merchant": an admin's signed request to connect one more store to their merchant.
LINK_PARAM = "link"
LINK_SALT = "patronkit.install-link"
LINK_MAX_AGE_SECONDS = 600

SessionTokenInstaller = Callable[[str | None], Installation]


@dataclass(frozen=True)
class Link:
    """A verified "link to merchant": connect this store to that merchant."""

    merchant: str
    shop: str  # as the platform's gateway keys it (`canonical_shop`)


class InvalidLink(Exception):
    pass


@dataclass(frozen=True)
class Issued:
    """What a verified install state says: the nonce or store it was issued for, and the
    merchant an admin's link asked to connect the store to (None: a new merchant)."""

    value: str
    merchant_id: UUID | None = None
    linked_shop: str | None = None  # the store the link named (BROWSER_REDIRECT flows)


@bp.get("/install/<platform>")
def begin(platform: str) -> ResponseReturnValue:
    run = runtime()
    gateway = _gateway(run, platform)
    shop = request.args.get("shop", "").strip()
    if not shop:
        return _error(400, "missing shop", "add ?shop=<your store's domain>")
    try:
        link = _verified_link(gateway, platform, shop, request.args.get(LINK_PARAM))
    except InvalidLink:
        return _error(401, "install link invalid or expired", "ask for a new one in the app")
    if gateway.install_flow is InstallFlow.SERVER_POST:
        return _begin_posted(run, gateway, platform, shop, link)
    state = secrets.token_hex(32)
    try:
        url = gateway.begin_install(shop, _callback_url(run, platform), state)
    except (InstallRejected, ValueError) as exc:
        return _error(400, "invalid shop", str(exc))
    issued: dict[str, str] = {"platform": platform, "state": state}
    if link is not None:
        issued.update(merchant=link.merchant, shop=link.shop)
    response = redirect(url, code=302)
    response.set_cookie(
        STATE_COOKIE,
        sign(STATE_SALT, issued),
        max_age=STATE_MAX_AGE_SECONDS,
        path=_cookie_path(platform),  # sent to this platform's callback only
        secure=_https(run),
        httponly=True,
        samesite="Lax",  # the platform's redirect back is a top-level GET: Lax sends it
    )
    return response


@bp.get("/install/<platform>/callback")
def callback(platform: str) -> ResponseReturnValue:
    run = runtime()
    gateway = _gateway(run, platform)
    if gateway.install_flow is InstallFlow.SERVER_POST:
        return _land(run, platform)
    response = _finish_callback(run, gateway, platform)
    # The nonce is single-use whatever the outcome.
    response.delete_cookie(
        STATE_COOKIE,
        path=_cookie_path(platform),
        secure=_https(run),
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.post("/install/<platform>/callback")
def posted_callback(platform: str) -> ResponseReturnValue:
    """The platform's server posting the credentials (SERVER_POST flows only). Answers 200
    once the shop is connected: the platform treats anything else as a failed install."""
    run = runtime()
    gateway = _gateway(run, platform)
    if gateway.install_flow is not InstallFlow.SERVER_POST:
        abort(405)
    body = request.get_json(silent=True)
    params = _posted_fields(body)
    if params is None:
        return _error(400, "install rejected", "the body must be a flat JSON object")
    token = params.get(gateway.install_state_param)
    issued = _posted_state(platform, token, STATE_MAX_AGE_SECONDS)
    if token is None or issued is None:
        log.info("posted install refused (platform %s): state missing or expired", platform)
        return _error(401, "install state missing or expired", "start the install again")
    try:
        # The signed store wins over anything posted: it is the one the merchant started with.
        installation = gateway.complete_install({**params, "shop": issued.value}, token)
    except InstallRejected as exc:
        log.info("posted install refused (platform %s): %s", platform, exc)
        return _error(400, "install rejected", str(exc))
    if installation.domain.lower() != issued.value.lower():
        log.warning(
            "posted install refused (platform %s): installation names another store", platform
        )
        return _error(400, "install rejected", "the installation is for another store")
    refused = _connect_or_refuse(run, platform, installation, issued.merchant_id)
    if refused is not None:
        return refused
    registered = _register_webhooks(run, gateway, platform, installation)
    return jsonify(
        status="installed",
        shop=installation.domain,
        webhooks="registered" if registered else "pending",
    )


@bp.post("/install/<platform>/session")
def from_session_token(platform: str) -> ResponseReturnValue:
    run = runtime()
    gateway = _gateway(run, platform)
    # Only platforms with an embedded admin (App Bridge style session tokens) offer this.
    installer: SessionTokenInstaller | None = getattr(gateway, "install_from_session_token", None)
    if installer is None:
        abort(404)
    try:
        installation = installer(request.headers.get("Authorization"))
    except InstallRejected as exc:
        log.info("session token install refused (platform %s): %s", platform, exc)
        response = _error(401, "invalid session token", str(exc))
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    merchant_id = _connect(run, platform, installation)
    registered = _register_webhooks(run, gateway, platform, installation)
    return jsonify(
        shop=installation.domain,
        merchant_id=str(merchant_id),
        webhooks="registered" if registered else "pending",
    )


# -- steps ---------------------------------------------------------------------------------


def _finish_callback(run: Runtime, gateway: StorefrontGateway, platform: str) -> BaseResponse:
    issued = _issued_state(platform)
    if issued is None:
        return _error(
            401, "install session missing or expired", "start the install again from your store"
        )
    if any(len(values) > 1 for values in request.args.listvalues()):
        # A repeated parameter could be read one way when signed and another when used.
        return _error(400, "install rejected", "repeated query parameters")
    try:
        installation = gateway.complete_install(request.args.to_dict(), issued.value)
        if issued.linked_shop is not None and (
            gateway.canonical_shop(installation.domain) != issued.linked_shop
        ):
            raise InstallRejected("the installation is for another store than the link's")
    except InstallRejected as exc:
        log.info("install refused (platform %s): %s", platform, exc)
        return _error(400, "install rejected", str(exc))
    refused = _connect_or_refuse(run, platform, installation, issued.merchant_id)
    if refused is not None:
        return refused
    registered = _register_webhooks(run, gateway, platform, installation)
    return redirect(_admin_url(run, platform, installation, registered), code=302)


def _begin_posted(
    run: Runtime,
    gateway: StorefrontGateway,
    platform: str,
    shop: str,
    link: Link | None,
) -> BaseResponse:
    """Start a SERVER_POST install: the state is signed into the URL, not a cookie."""
    try:
        canonical = gateway.canonical_shop(shop)
        issued = {"platform": platform, "shop": canonical, "nonce": secrets.token_hex(16)}
        if link is not None:
            issued["merchant"] = link.merchant
        state = sign(POSTED_STATE_SALT, issued)
        url = gateway.begin_install(canonical, _callback_url(run, platform), state)
    except (InstallRejected, ValueError) as exc:
        return _error(400, "invalid shop", str(exc))
    return redirect(url, code=302)


@bp.post("/install/<platform>/link")
def link(platform: str) -> ResponseReturnValue:
    """The begin URL that connects a store of `platform` to the asking admin's merchant.

    Only with an ``Authorization`` header (never a form field or query parameter): a
    cross-site form cannot send one, so this needs no CSRF token."""
    run = runtime()
    gateway = _gateway(run, platform)
    if not request.headers.get("Authorization"):
        return _error(401, "unauthorized", "send Authorization: Bearer <admin session>")
    try:
        admin = authenticate(request, run)
    except Unauthorized as exc:
        return _error(401, "unauthorized", str(exc))
    body = request.get_json(silent=True)
    shop = body.get("shop") if isinstance(body, dict) else request.form.get("shop")
    if not isinstance(shop, str) or not shop.strip():
        return _error(400, "missing shop", "name the store to connect")
    try:
        canonical = gateway.canonical_shop(shop)
    except InstallRejected as exc:
        return _error(400, "invalid shop", str(exc))
    token = sign(
        LINK_SALT, {"platform": platform, "shop": canonical, "merchant": str(admin.merchant_id)}
    )
    query = urlencode({"shop": canonical, LINK_PARAM: token})
    return jsonify(
        install_url=f"{run.settings.public_url}/install/{platform}?{query}",
        expires_in=LINK_MAX_AGE_SECONDS,
    )


def _verified_link(
    gateway: StorefrontGateway, platform: str, shop: str, token: str | None
) -> Link | None:
    """The install's link to a merchant (None: there is none); InvalidLink if it is forged,
    expired, or for another platform or store than this install's."""
    if token is None:
        return None
    value = unsign(LINK_SALT, token, LINK_MAX_AGE_SECONDS)
    if not isinstance(value, dict) or value.get("platform") != platform:
        raise InvalidLink
    try:
        canonical = gateway.canonical_shop(shop)
        merchant = str(UUID(str(value.get("merchant"))))
    except (InstallRejected, ValueError):
        raise InvalidLink from None
    if value.get("shop") != canonical:
        raise InvalidLink
    return Link(merchant, canonical)


def _posted_fields(body: object) -> dict[str, str] | None:
    """A posted JSON object's fields as text; None unless it is a flat object of scalars."""
    if not isinstance(body, dict):
        return None
    fields: dict[str, str] = {}
    for name, value in body.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None  # nested, fractional or boolean: no credential field looks like that
        text = str(value)
        if len(text) > MAX_POSTED_FIELD or len(name) > 100:
            return None
        fields[name] = text
    return fields


def _posted_state(platform: str, token: str | None, max_age: int) -> Issued | None:
    """The store a SERVER_POST state was issued for (and the linked merchant), if the state
    is intact, fresh enough and for this platform."""
    value = unsign(POSTED_STATE_SALT, token, max_age)
    if not isinstance(value, dict) or value.get("platform") != platform:
        return None
    shop = value.get("shop")
    if not isinstance(shop, str) or not shop:
        return None
    return Issued(shop, _merchant(value))


def _merchant(state: dict[str, object]) -> UUID | None:
    # Signed by us, so well formed; absent unless an admin's link started the install.
    merchant = state.get("merchant")
    return UUID(merchant) if isinstance(merchant, str) else None


def _land(run: Runtime, platform: str) -> BaseResponse:
    """The browser's return after a SERVER_POST install: on to the shop's admin page if the
    posted callback connected it. Changes nothing."""
    issued = _posted_state(platform, request.args.get("state"), LANDING_MAX_AGE_SECONDS)
    if issued is None:
        return _error(401, "install session missing or expired", "start the install again")
    with run.unit_of_work(read_only=True) as uow:
        connection = uow.merchants.shop_by_domain(platform, issued.value)
    if connection is None or not connection.active:
        # Declined by the merchant, or the store could not reach our callback.
        return _error(400, "install not completed", "approve patronkit in your store again")
    query = {"platform": platform, "shop": connection.domain}
    return redirect(f"{run.settings.public_url}/admin?{urlencode(query)}", code=302)


def _issued_state(platform: str) -> Issued | None:
    """The nonce from our signed cookie (and the linked merchant and store), if present,
    intact, fresh and for this platform."""
    value = unsign(STATE_SALT, request.cookies.get(STATE_COOKIE), STATE_MAX_AGE_SECONDS)
    if not isinstance(value, dict) or value.get("platform") != platform:
        return None
    state = value.get("state")
    if not isinstance(state, str) or not state:
        return None
    shop = value.get("shop")
    return Issued(state, _merchant(value), shop if isinstance(shop, str) else None)


def _connect_or_refuse(
    run: Runtime, platform: str, installation: Installation, merchant_id: UUID | None
) -> Response | None:
    """Connect the store (to the linked merchant, if any); an error answer if that merchant
    cannot have it."""
    try:
        _connect(run, platform, installation, merchant_id)
    except StoreOfAnotherMerchant as exc:
        log.info("install refused (platform %s): %s", platform, exc)
        return _error(409, "store connected elsewhere", str(exc))
    except NotFound:
        return _error(400, "install rejected", "the merchant of this install link is gone")
    return None


def _connect(
    run: Runtime, platform: str, installation: Installation, merchant_id: UUID | None = None
) -> UUID:
    """Create or re-activate the connection in one unit of work; the owning merchant's id."""
    try:
        owner = _connect_once(run, platform, installation, merchant_id)
    except IntegrityError:
        # Two first installs of one store raced and the other created the connection:
        # a second pass finds it and updates it instead.
        owner = _connect_once(run, platform, installation, merchant_id)
    log.info("installed %s shop %s (merchant %s)", platform, installation.domain, owner)
    return owner


def _connect_once(
    run: Runtime, platform: str, installation: Installation, merchant_id: UUID | None
) -> UUID:
    with run.unit_of_work() as uow:
        shop = connect_shop(
            uow, platform, installation, run.sealer, utcnow(), merchant_id=merchant_id
        )
        uow.commit()
        return shop.merchant_id


def _register_webhooks(
    run: Runtime, gateway: StorefrontGateway, platform: str, installation: Installation
) -> bool:
    access = ShopAccess(installation.domain, installation.api_url, installation.credentials)
    try:
        gateway.register_webhooks(access, f"{run.settings.public_url}/webhooks/{platform}")
    except Exception as exc:
        # The install is committed and must stand; the exception type is enough to act on
        # (messages of unknown exceptions might carry request details).
        log.warning(
            "webhook registration failed for %s shop %s (%s); will retry on the next "
            "session or install",
            platform,
            installation.domain,
            type(exc).__name__,
        )
        return False
    return True


# -- small helpers -------------------------------------------------------------------------


def _gateway(run: Runtime, platform: str) -> StorefrontGateway:
    gateway = run.gateways.get(platform)
    if gateway is None:
        abort(404)
    return gateway


def _callback_url(run: Runtime, platform: str) -> str:
    return f"{run.settings.public_url}/install/{platform}/callback"


def _admin_url(run: Runtime, platform: str, installation: Installation, registered: bool) -> str:
    """Our embedded admin's entry page (another blueprint). For Shopify this loads inside the
    store's admin; the `host` parameter is what App Bridge needs to do that, so pass it on."""
    query = {"platform": platform, "shop": installation.domain}
    host = request.args.get("host")
    if host:
        query["host"] = host
    if not registered:
        query["webhooks"] = "pending"
    return f"{run.settings.public_url}/admin?{urlencode(query)}"


def _cookie_path(platform: str) -> str:
    return f"/install/{platform}"


def _https(run: Runtime) -> bool:
    return run.settings.public_url.startswith("https://")


def _error(status: int, error: str, detail: str) -> Response:
    response = jsonify(error=error, detail=detail)
    response.status_code = status
    return response
