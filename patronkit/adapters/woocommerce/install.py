"""Installing through WooCommerce's application authentication endpoint (/wc-auth/v1/authorize).

The flow (WooCommerce docs, "Auto generating API keys"; WC_Auth in class-wc-auth.php):

1. We send the merchant to ``{site}/wc-auth/v1/authorize`` with ``app_name``, ``scope``,
   ``user_id``, ``return_url`` and ``callback_url``.
2. The merchant logs in to WordPress and approves. WooCommerce creates a key pair and POSTs
   ``{key_id, user_id, consumer_key, consumer_secret, key_permissions}`` as JSON to
   ``callback_url``, server to server: no browser, so no cookie of ours. It needs a 200;
   anything else makes it delete the keys and show the merchant an error.
3. Only then does it redirect the merchant's browser to ``return_url`` with ``success`` and
   ``user_id`` added.

``user_id`` is the only value of ours that comes back in the POST, so it carries the install
state (signed by the web layer). WooCommerce passes it through ``sanitize_text_field``, which
strips percent-escapes and tags: a URL-safe signed token survives it unchanged. The browser
comes back to ``callback_url`` with ``state`` in the query (a GET), which is how the web
layer lands every server-posted install.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from patronkit.adapters.woocommerce.site_url import InvalidSiteUrl, normalize_site_url
from patronkit.core.storefront import InstallRejected

AUTHORIZE_PATH = "/wc-auth/v1/authorize"
SCOPE = "read_write"  # read customers and orders, write consent meta, manage webhooks
STATE_PARAM = "user_id"  # the callback field that echoes our state
SHOP_PARAM = "shop"  # the store the web layer's signed state names

_CONSUMER_KEY = re.compile(r"ck_[A-Za-z0-9]{20,120}")
_CONSUMER_SECRET = re.compile(r"cs_[A-Za-z0-9]{20,120}")


@dataclass(frozen=True)
class PostedKeys:
    """The keys WooCommerce posted, checked for shape (not yet for working)."""

    site_url: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)


def authorize_url(site_url: str, *, app_name: str, callback_url: str, state: str) -> str:
    """Where to send the merchant to approve patronkit for ``site_url`` (already normalized)."""
    separator = "&" if "?" in callback_url else "?"
    return_url = f"{callback_url}{separator}{urlencode({'state': state})}"
    query = urlencode(
        {
            "app_name": app_name,
            "scope": SCOPE,
            "user_id": state,
            "return_url": return_url,
            "callback_url": callback_url,
        }
    )
    return f"{site_url}{AUTHORIZE_PATH}?{query}"


def read_posted_keys(params: Mapping[str, str], expected_state: str | None) -> PostedKeys:
    """The posted keys for the store the state names, or `InstallRejected`.

    ``params`` are the posted fields as text plus ``shop`` (from the verified state);
    ``expected_state`` is that verified state, which the posted ``user_id`` must equal."""
    posted_state = params.get(STATE_PARAM)
    if not expected_state or not posted_state:
        raise InstallRejected("install state is missing")
    if not hmac.compare_digest(posted_state.encode(), expected_state.encode()):
        raise InstallRejected("install state does not match")
    try:
        site_url = normalize_site_url(params.get(SHOP_PARAM))
    except InvalidSiteUrl as exc:
        raise InstallRejected(f"install names no valid store: {exc}") from None
    if params.get("key_permissions") != SCOPE:
        raise InstallRejected(f"the keys must have {SCOPE} permissions")
    consumer_key = params.get("consumer_key") or ""
    consumer_secret = params.get("consumer_secret") or ""
    if not _CONSUMER_KEY.fullmatch(consumer_key):
        raise InstallRejected("consumer_key is missing or malformed")
    if not _CONSUMER_SECRET.fullmatch(consumer_secret):
        raise InstallRejected("consumer_secret is missing or malformed")
    return PostedKeys(site_url, consumer_key, consumer_secret)
