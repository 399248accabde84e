"""App installation: authorization-code grant, token exchange, and App Bridge session tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from flask import Blueprint, Response, jsonify, redirect, request

if TYPE_CHECKING:
    from .shop import Shop

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN, not a secret
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a URN, not a secret
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105 - a URN, not a secret
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"  # noqa: S105 - a URN, not a secret
CODE_LIFETIME_SECONDS = 600
SESSION_TOKEN_LIFETIME_SECONDS = 60
JWT_LEEWAY_SECONDS = 10
ONLINE_TOKEN_LIFETIME_SECONDS = 86_399


def _escape_pair(key: str, value: str) -> str:
    # Same escaping as Shopify's libraries, so their validators accept our callbacks.
    key = key.replace("%", "%25").replace("=", "%3D")
    value = value.replace("%", "%25")
    return f"{key}={value}".replace("&", "%26")


def oauth_hmac(params: Mapping[str, str], secret: str) -> str:
    """Drop hmac/signature, sort k=v pairs, join with &, HMAC-SHA256 hex."""
    pairs = sorted(_escape_pair(k, v) for k, v in params.items() if k not in ("hmac", "signature"))
    message = "&".join(pairs).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def host_parameter(shop_domain: str) -> str:
    """The `host` callback parameter: base64 of the admin URL of the shop."""
    store = shop_domain.split(".", 1)[0]
    return base64.b64encode(f"admin.shopify.com/store/{store}".encode()).decode().rstrip("=")


def mint_session_token(
    shop: Shop,
    *,
    sub: str = "42",
    sid: str | None = None,
    lifetime_seconds: int = SESSION_TOKEN_LIFETIME_SECONDS,
    issued_at: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    secret: str | None = None,
) -> str:
    """An App Bridge-style session token, as the embedded admin would hand to the app."""
    now = int(issued_at if issued_at is not None else time.time())
    domain = shop.config.shop_domain
    claims: dict[str, Any] = {
        "iss": f"https://{domain}/admin",
        "dest": f"https://{domain}",
        "aud": shop.config.client_id,
        "sub": sub,
        "exp": now + lifetime_seconds,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "sid": sid or secrets.token_hex(16),
    }
    claims.update(overrides or {})
    return jwt.encode(claims, secret or shop.config.client_secret, algorithm="HS256")


def _oauth_error(status: int, error: str, description: str) -> tuple[Response, int]:
    return jsonify({"error": error, "error_description": description}), status


def _request_params() -> dict[str, str]:
    params: dict[str, str] = dict(request.args.items())
    params.update(request.form.items())
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        params.update({k: str(v) for k, v in body.items() if v is not None})
    return params


def _issue_token(shop: Shop, scopes: tuple[str, ...], online: bool = False) -> str:
    token = "shpat_" + secrets.token_hex(16)
    from .state import AccessToken

    expires = time.time() + ONLINE_TOKEN_LIFETIME_SECONDS if online else None
    with shop.state.lock:
        shop.state.access_tokens[token] = AccessToken(token, scopes, online, expires)
        shop.state.installed = True
    return token


def issue_offline_token(shop: Shop, scopes: tuple[str, ...] | None = None) -> str:
    """Install the app directly (no browser dance); for tests and the demo."""
    return _issue_token(shop, scopes or shop.config.app_scopes)


def create_oauth_blueprint(shop: Shop) -> Blueprint:
    blueprint = Blueprint("shopify_sim_oauth", __name__)

    @blueprint.get("/admin/oauth/authorize")
    def authorize() -> Any:
        shop.stats.count("oauth_requests")
        client_id = request.args.get("client_id", "")
        redirect_uri = request.args.get("redirect_uri", "")
        if not hmac.compare_digest(client_id, shop.config.client_id):
            return _oauth_error(400, "invalid_request", "The client_id is invalid or missing")
        if not redirect_uri.startswith(("http://", "https://")):
            return _oauth_error(
                400, "invalid_request", "The redirect_uri is missing or not whitelisted"
            )
        scopes = tuple(s.strip() for s in request.args.get("scope", "").split(",") if s.strip())
        code = secrets.token_hex(16)
        with shop.state.lock:
            shop.state.authorization_codes[code] = (scopes, time.time())
        params = {
            "code": code,
            "host": host_parameter(shop.config.shop_domain),
            "shop": shop.config.shop_domain,
            "timestamp": str(int(time.time())),
        }
        if "state" in request.args:
            params["state"] = request.args["state"]
        params["hmac"] = oauth_hmac(params, shop.config.client_secret)
        separator = "&" if "?" in redirect_uri else "?"
        return redirect(redirect_uri + separator + urlencode(params), code=302)

    @blueprint.post("/admin/oauth/access_token")
    def access_token() -> Any:
        shop.stats.count("oauth_requests")
        params = _request_params()
        if not hmac.compare_digest(params.get("client_id", ""), shop.config.client_id) or not (
            hmac.compare_digest(params.get("client_secret", ""), shop.config.client_secret)
        ):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if params.get("grant_type") == TOKEN_EXCHANGE_GRANT:
            return _token_exchange(shop, params)
        code = params.get("code", "")
        with shop.state.lock:
            grant = shop.state.authorization_codes.pop(code, None)  # single use
        if grant is None or time.time() - grant[1] > CODE_LIFETIME_SECONDS:
            return _oauth_error(
                400, "invalid_request", "The authorization code was not found or was already used"
            )
        scopes = grant[0] or shop.config.app_scopes
        token = _issue_token(shop, scopes)
        return jsonify({"access_token": token, "scope": ",".join(scopes)})

    return blueprint


def _token_exchange(shop: Shop, params: dict[str, str]) -> Any:
    if params.get("subject_token_type") != ID_TOKEN_TYPE:
        return _oauth_error(400, "invalid_request", "subject_token_type must be an id_token")
    requested = params.get("requested_token_type")
    if requested not in (OFFLINE_TOKEN_TYPE, ONLINE_TOKEN_TYPE):
        return _oauth_error(400, "invalid_request", "requested_token_type is not supported")
    domain = shop.config.shop_domain
    try:
        claims = jwt.decode(
            params.get("subject_token", ""),
            shop.config.client_secret,
            algorithms=["HS256"],
            audience=shop.config.client_id,
            leeway=JWT_LEEWAY_SECONDS,
            options={"require": ["exp", "nbf", "iss", "dest", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        return _oauth_error(400, "invalid_subject_token", "The session token is invalid or expired")
    if claims.get("iss") != f"https://{domain}/admin" or claims.get("dest") != f"https://{domain}":
        return _oauth_error(
            400, "invalid_subject_token", "The session token was issued for another shop"
        )
    scopes = shop.config.app_scopes
    online = requested == ONLINE_TOKEN_TYPE
    token = _issue_token(shop, scopes, online=online)
    body: dict[str, Any] = {"access_token": token, "scope": ",".join(scopes)}
    if online:
        body.update(
            {
                "expires_in": ONLINE_TOKEN_LIFETIME_SECONDS,
                "associated_user_scope": ",".join(scopes),
                "associated_user": {
                    "id": int(claims["sub"]) if str(claims["sub"]).isdigit() else claims["sub"],
                    "first_name": "Sim",
                    "last_name": "Merchant",
                    "email": f"owner@{domain}",
                    "email_verified": True,
                    "account_owner": True,
                    "locale": "en",
                    "collaborator": False,
                },
            }
        )
    return jsonify(body)
