"""Shopify OAuth: authorization-code grant and token exchange, without any web framework.

The web layer passes the callback's query parameters in and gets a verified `OAuthCallback`
back, or an `OAuthError` subclass it can turn into a 4xx. Nothing here logs or echoes secrets,
codes or tokens.

The HMAC is computed here rather than with ``shopify.Session.calculate_hmac`` because that
reads the client secret from class-level state set by ``Session.setup`` (shared by every
thread and every app in the process). The algorithm is the same; a test cross-checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests

from patronkit.adapters.shopify.shop_domain import InvalidShopDomain, normalize_shop_domain

DEFAULT_TIMESTAMP_TOLERANCE_SECONDS = 90  # Shopify's JS library uses the same window
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 15.0)  # (connect, read) seconds

# RFC 8693 type identifiers (URNs, not secrets).
TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
OFFLINE_ACCESS_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"  # noqa: S105
ONLINE_ACCESS_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"  # noqa: S105

_SIGNATURE_PARAMS = frozenset({"hmac", "signature"})
QueryParams = Mapping[str, str | Sequence[str]]


class OAuthError(Exception):
    """Base class: the OAuth request or exchange cannot be accepted."""


class MissingParameter(OAuthError):
    """A required callback parameter is absent."""


class AmbiguousParameter(OAuthError):
    """A parameter that must appear once appears several times."""


class InvalidHmac(OAuthError):
    """The callback's HMAC does not match: not from Shopify, or tampered with."""


class StaleRequest(OAuthError):
    """The callback's timestamp is outside the accepted window (possible replay)."""


class InvalidShop(OAuthError):
    """The ``shop`` parameter is not a Shopify shop domain."""


class StateMismatch(OAuthError):
    """The ``state`` parameter does not equal the nonce we issued (possible CSRF)."""


class TokenRequestRejected(OAuthError):
    """Shopify answered 4xx to a token request (code used/expired, bad session token, ...)."""

    def __init__(self, message: str, status: int, error: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


class TokenEndpointUnavailable(OAuthError):
    """Network failure, timeout or 5xx from the token endpoint; worth retrying later."""


@dataclass(frozen=True)
class OAuthCallback:
    """A callback whose HMAC, timestamp, shop and state have all been verified."""

    shop_domain: str
    code: str
    state: str
    host: str | None
    timestamp: datetime


@dataclass(frozen=True)
class AccessToken:
    """Result of a code exchange or token exchange. ``repr`` hides the token."""

    access_token: str
    scopes: tuple[str, ...]
    expires_in: int | None = None  # set for online and expiring offline tokens

    def __repr__(self) -> str:
        return f"AccessToken(access_token='***', scopes={self.scopes!r})"


def new_state_nonce() -> str:
    """32 random bytes as hex, to be kept in a signed cookie and checked on callback."""
    return secrets.token_hex(32)


def build_authorize_url(
    shop: str,
    *,
    client_id: str,
    scopes: Sequence[str],
    redirect_uri: str,
    state: str,
    grant_options: Sequence[str] = (),
) -> str:
    """``https://{shop}/admin/oauth/authorize?...``; ``grant_options=["per-user"]`` asks for
    an online token."""
    shop_domain = _valid_shop(shop)
    params: list[tuple[str, str]] = [
        ("client_id", client_id),
        ("scope", ",".join(scopes)),
        ("redirect_uri", redirect_uri),
        ("state", state),
    ]
    params.extend(("grant_options[]", option) for option in grant_options)
    return f"https://{shop_domain}/admin/oauth/authorize?{urlencode(params)}"


def calculate_hmac(params: QueryParams, secret: str) -> str:
    """Hex HMAC-SHA256 of the query parameters as Shopify signs them.

    Drop ``hmac``/``signature``; escape ``%`` and ``&`` (and ``=`` in keys) so a value
    cannot forge a separator; ``key[]`` lists become ``key=["a", "b"]``; sort the ``k=v``
    pairs; join with ``&``.
    """
    pairs: list[str] = []
    for raw_key, value in params.items():
        if raw_key in _SIGNATURE_PARAMS:
            continue
        key = raw_key
        if key.endswith("[]"):
            key = key[:-2]
            items = [value] if isinstance(value, str) else list(value)
            text = json.dumps([str(item) for item in items])
        else:
            text = _single_value(key, value)
        safe_key = key.replace("%", "%25").replace("=", "%3D")
        safe_value = text.replace("%", "%25")
        pairs.append(f"{safe_key}={safe_value}".replace("&", "%26"))
    message = "&".join(sorted(pairs))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_hmac(params: QueryParams, secret: str) -> bool:
    """Constant-time check of ``params["hmac"]`` against `calculate_hmac`."""
    raw = params.get("hmac")
    if not raw:
        return False
    try:
        received = _single_value("hmac", raw)
        expected = calculate_hmac(params, secret)
    except AmbiguousParameter:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def verify_callback(
    params: QueryParams,
    *,
    client_secret: str,
    expected_state: str | None,
    tolerance_seconds: float = DEFAULT_TIMESTAMP_TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> OAuthCallback:
    """Verify an OAuth callback's query parameters; raise an `OAuthError` subclass if bad.

    HMAC first, so nothing else is trusted before the request is known to be Shopify's.
    """
    for name in ("hmac", "shop", "code", "state", "timestamp"):
        if not params.get(name):
            raise MissingParameter(f"callback parameter {name!r} is missing")
    if not verify_hmac(params, client_secret):
        raise InvalidHmac("callback HMAC does not match")

    timestamp_text = _single_value("timestamp", params["timestamp"])
    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise StaleRequest("callback timestamp is not an integer") from None
    if abs(clock() - timestamp) > tolerance_seconds:
        raise StaleRequest("callback timestamp is outside the accepted window")

    shop_domain = _valid_shop(_single_value("shop", params["shop"]))
    state = _single_value("state", params["state"])
    # compare_digest needs equal types; an absent cookie never matches.
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise StateMismatch("callback state does not match the issued nonce")

    host = params.get("host")
    return OAuthCallback(
        shop_domain=shop_domain,
        code=_single_value("code", params["code"]),
        state=state,
        host=_single_value("host", host) if host else None,
        timestamp=datetime.fromtimestamp(timestamp, tz=UTC),
    )


def exchange_code(
    shop: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    base_url: str | None = None,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> AccessToken:
    """POST ``/admin/oauth/access_token`` with the callback's code. Not retried: a code is
    single-use, so a retry after a lost response would fail anyway."""
    return _token_request(
        shop,
        {"client_id": client_id, "client_secret": client_secret, "code": code},
        base_url=base_url,
        session=session,
        timeout=timeout,
    )


def exchange_session_token(
    shop: str,
    *,
    client_id: str,
    client_secret: str,
    session_token: str,
    online: bool = False,
    base_url: str | None = None,
    session: requests.Session | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> AccessToken:
    """Token exchange (embedded apps): swap an App Bridge session token (the raw JWT, without
    ``Bearer``) for an offline (default) or online access token."""
    return _token_request(
        shop,
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": TOKEN_EXCHANGE_GRANT_TYPE,
            "subject_token": session_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": ONLINE_ACCESS_TOKEN_TYPE
            if online
            else OFFLINE_ACCESS_TOKEN_TYPE,
        },
        base_url=base_url,
        session=session,
        timeout=timeout,
    )


def _token_request(
    shop: str,
    body: dict[str, str],
    *,
    base_url: str | None,
    session: requests.Session | None,
    timeout: tuple[float, float],
) -> AccessToken:
    shop_domain = _valid_shop(shop)
    # base_url lets tests and the simulator stand in for https://{shop}.
    url = f"{(base_url or f'https://{shop_domain}').rstrip('/')}/admin/oauth/access_token"
    http = session or requests.Session()
    try:
        response = http.post(
            url, json=body, headers={"Accept": "application/json"}, timeout=timeout
        )
    except requests.RequestException as exc:
        # The exception text may include the URL but never the body (which holds the secret).
        raise TokenEndpointUnavailable(
            f"token endpoint unreachable: {type(exc).__name__}"
        ) from None
    finally:
        if session is None:
            http.close()

    if response.status_code >= 500:
        raise TokenEndpointUnavailable(f"token endpoint answered {response.status_code}")
    payload = _json_object(response)
    if response.status_code >= 400:
        error = payload.get("error") if isinstance(payload.get("error"), str) else None
        raise TokenRequestRejected(
            f"token request rejected ({response.status_code}, {error or 'no error code'})",
            status=response.status_code,
            error=error,
        )
    token = payload.get("access_token")
    scope = payload.get("scope", "")
    if not isinstance(token, str) or not token or not isinstance(scope, str):
        raise TokenEndpointUnavailable("token endpoint answered without an access token")
    expires_in = payload.get("expires_in")
    return AccessToken(
        access_token=token,
        scopes=tuple(part for part in scope.split(",") if part),
        expires_in=expires_in if isinstance(expires_in, int) else None,
    )


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _single_value(key: str, value: str | Sequence[str]) -> str:
    """Query values arrive as ``str`` or, from multi-dicts, lists; a repeated scalar
    parameter is ambiguous and therefore refused."""
    if isinstance(value, str):
        return value
    values = list(value)
    if len(values) != 1:
        raise AmbiguousParameter(f"parameter {key!r} must appear exactly once")
    return str(values[0])


def _valid_shop(shop: str) -> str:
    try:
        return normalize_shop_domain(shop)
    except InvalidShopDomain as exc:
        raise InvalidShop(str(exc)) from None
