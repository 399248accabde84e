"""REST API keys and request authentication, as WC_REST_Authentication does it.

Over plain HTTP WooCommerce accepts only one-legged OAuth 1.0a: parameters from the query
string, a form body or an `Authorization: OAuth` header; HMAC-SHA1 or HMAC-SHA256 over a
base string built from the site's home URL; key = consumer secret + "&"; a 15-minute
timestamp window; nonces remembered per key. A JSON body is not signed. Basic auth and the
consumer_key/consumer_secret query pair work only when WordPress believes the request came
over HTTPS (`is_ssl()`), which the simulator fakes with the `assume_https` option.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

from .state import ADMIN_USER_ID, KEY_PERMISSIONS, ApiKey, StoreState

TIMESTAMP_WINDOW_SECONDS = 15 * 60
OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


class AuthError(Exception):
    """A WP_Error raised while authenticating: always HTTP 401 in WooCommerce."""

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def wc_api_hash(data: str) -> str:
    """wc_api_hash(): how consumer keys are stored, so a leaked table does not leak keys."""
    return hmac.new(b"wc-api", data.encode("utf-8"), hashlib.sha256).hexdigest()


def wc_rand_hash() -> str:
    return secrets.token_hex(20)


def create_api_key(
    state: StoreState, permissions: str, description: str, user_id: int = ADMIN_USER_ID
) -> tuple[ApiKey, str]:
    """Insert a key row; returns it and the plain consumer key (shown only this once)."""
    if permissions not in KEY_PERMISSIONS:
        raise ValueError(f"permissions must be one of {KEY_PERMISSIONS}")
    consumer_key = "ck_" + wc_rand_hash()
    with state.lock:
        key = ApiKey(
            key_id=state.next_key_id(),
            user_id=user_id,
            description=description,
            permissions=permissions,
            consumer_key_hash=wc_api_hash(consumer_key),
            consumer_secret="cs_" + wc_rand_hash(),
            truncated_key=consumer_key[-7:],
        )
        state.api_keys[key.key_id] = key
    return key, consumer_key


def find_key(state: StoreState, consumer_key: str) -> ApiKey | None:
    wanted = wc_api_hash(consumer_key.strip())
    with state.lock:
        for key in state.api_keys.values():
            if hmac.compare_digest(key.consumer_key_hash, wanted):
                return key
    return None


# -- PHP request parsing and OAuth base string ------------------------------------------


def rawurlencode(value: str) -> str:
    """PHP rawurlencode(): RFC 3986, everything but A-Z a-z 0-9 - _ . ~ encoded."""
    return quote(value, safe="~")


def php_query_params(query: str) -> dict[str, Any]:
    """$_GET as PHP builds it: last duplicate wins, `a[b]=c` nests one level, `a[]` appends.

    The Python woocommerce client sends its query parameters twice (once in the signed URL,
    once as `params=`); PHP's last-wins rule is what makes that harmless.
    """
    params: dict[str, Any] = {}
    for raw_key, value in parse_qsl(query, keep_blank_values=True):
        bracket = raw_key.find("[")
        if bracket > 0 and raw_key.endswith("]"):
            base, sub = raw_key[:bracket], raw_key[bracket + 1 : -1]
            nested = params.get(base)
            if not isinstance(nested, dict):
                nested = {}
                params[base] = nested
            nested[sub or str(len(nested))] = value
        else:
            params[raw_key.replace(".", "_").replace(" ", "_")] = value
    return params


def parse_oauth_header(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        return {}
    found: dict[str, str] = {}
    for match in _HEADER_PARAM.finditer(header):
        found[match.group(1)] = unquote_plus(match.group(3) or match.group(4) or "")
    return found


def _joined_pairs(params: dict[str, Any], prefix: str = "") -> list[str]:
    """join_with_equals_sign(): each encoded "key=value" is percent-encoded once more."""
    pairs: list[str] = []
    for key, value in params.items():
        name = f"{prefix}%5B{key}%5D" if prefix else key
        if isinstance(value, dict):
            pairs.extend(_joined_pairs(value, name))
        else:
            pairs.append(rawurlencode(f"{name}={value}"))
    return pairs


def _normalized(params: dict[str, Any]) -> dict[str, Any]:
    normalized: dict[str, Any] = {}
    for key, value in params.items():
        encoded_key = rawurlencode(str(key))
        if isinstance(value, dict):
            normalized[encoded_key] = {
                rawurlencode(str(k)): rawurlencode(str(v)) for k, v in value.items()
            }
        else:
            normalized[encoded_key] = rawurlencode(str(value))
    return normalized


def signature_base_string(method: str, url: str, params: dict[str, Any]) -> str:
    """METHOD & rawurlencode(home URL + path) & the doubly encoded, strcmp-sorted params."""
    unsigned = {k: v for k, v in params.items() if k != "oauth_signature"}
    ordered = dict(sorted(unsigned.items(), key=lambda item: item[0].encode("utf-8")))
    query = "%26".join(_joined_pairs(_normalized(ordered)))
    return f"{method.upper()}&{rawurlencode(url)}&{query}"


def oauth_signature(base_string: str, consumer_secret: str, method: str) -> str:
    algorithm = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
    key = (consumer_secret + "&").encode("utf-8")
    return base64.b64encode(hmac.new(key, base_string.encode("utf-8"), algorithm).digest()).decode()


# -- the authenticator -------------------------------------------------------------------


@dataclass
class RequestCredentials:
    """What authentication needs from one HTTP request."""

    method: str
    url_without_query: str  # home URL + request path, with the scheme WordPress would use
    query_params: dict[str, Any]
    form_params: dict[str, Any]
    authorization: str


class Authenticator:
    """Resolves a request to an API key, or raises the AuthError WooCommerce would report."""

    def __init__(self, state: StoreState) -> None:
        self.state = state

    def authenticate(self, creds: RequestCredentials, *, https: bool) -> ApiKey | None:
        """None means no credentials were offered at all (the endpoint then decides)."""
        pending: AuthError | None = None
        if https:
            try:
                key = self._basic(creds)
            except AuthError as error:
                # WooCommerce records the error and still tries OAuth, which may overwrite it.
                key, pending = None, error
            if key is not None:
                return key
        key = self._oauth(creds)
        if key is None and pending is not None:
            raise pending
        return key

    def _basic(self, creds: RequestCredentials) -> ApiKey | None:
        consumer_key = str(creds.query_params.get("consumer_key") or "")
        consumer_secret = str(creds.query_params.get("consumer_secret") or "")
        if not (consumer_key and consumer_secret):
            consumer_key, consumer_secret = "", ""
        if not consumer_key and creds.authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(creds.authorization[6:].strip()).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            consumer_key, _, consumer_secret = decoded.partition(":")
        if not (consumer_key and consumer_secret):
            return None
        key = find_key(self.state, consumer_key)
        if key is None:
            return None
        if not hmac.compare_digest(key.consumer_secret, consumer_secret):
            raise AuthError("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return key

    def _oauth(self, creds: RequestCredentials) -> ApiKey | None:
        params: dict[str, Any] = {**creds.query_params, **creds.form_params}
        params.update(parse_oauth_header(creds.authorization.strip()))
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if len(missing) == len(OAUTH_PARAMS):
            return None
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            raise AuthError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth {noun} {', '.join(missing)}",
            )
        key = find_key(self.state, str(params["oauth_consumer_key"]))
        if key is None:
            raise AuthError("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        self._check_signature(key, creds, params)
        self._check_timestamp_and_nonce(key, params["oauth_timestamp"], params["oauth_nonce"])
        return key

    def _check_signature(
        self, key: ApiKey, creds: RequestCredentials, params: dict[str, Any]
    ) -> None:
        # PHP turned a raw "+" into " " when it decoded the query string; WooCommerce puts
        # it back, then rawurldecode()s (which leaves "+" alone).
        provided = unquote(str(params["oauth_signature"]).replace(" ", "+"))
        method = str(params["oauth_signature_method"])
        base = signature_base_string(creds.method, creds.url_without_query, params)
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
            )
        expected = oauth_signature(base, key.consumer_secret, method)
        if not hmac.compare_digest(expected, provided):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )

    def _check_timestamp_and_nonce(self, key: ApiKey, raw_timestamp: Any, nonce: Any) -> None:
        now = int(time.time())
        try:
            timestamp = int(str(raw_timestamp))
        except ValueError:
            timestamp = -1
        if not now - TIMESTAMP_WINDOW_SECONDS <= timestamp <= now + TIMESTAMP_WINDOW_SECONDS:
            raise AuthError("woocommerce_rest_authentication_error", "Invalid timestamp.")
        with self.state.lock:
            if str(nonce) in key.nonces.values():
                raise AuthError(
                    "woocommerce_rest_authentication_error",
                    "Invalid nonce - nonce has already been used.",
                )
            key.nonces[timestamp] = str(nonce)
            for seen_at in [t for t in key.nonces if t < now - TIMESTAMP_WINDOW_SECONDS]:
                del key.nonces[seen_at]


def check_key_permissions(key: ApiKey, method: str) -> None:
    """check_permissions(): read keys may GET/HEAD, write keys POST/PUT/PATCH/DELETE."""
    method = method.upper()
    if method in ("HEAD", "GET"):
        if key.permissions not in ("read", "read_write"):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have read permissions.",
            )
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        if key.permissions not in ("write", "read_write"):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have write permissions.",
            )
    elif method != "OPTIONS":
        raise AuthError("woocommerce_rest_authentication_error", "Unknown request method.")
