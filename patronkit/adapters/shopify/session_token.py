"""Decode the App Bridge session token an embedded admin page sends as ``Authorization:
Bearer <jwt>``.

Signature, ``aud`` (our client id), ``exp``/``nbf`` (10 s leeway, for App Bridge's clock skew)
and the issuer's host are checked by ``shopify.session_token.decode_from_header``; on top of
that we insist on ``exp`` (the library does not), on ``dest`` and ``iss`` naming the same
host, and on that host being a valid shop domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from shopify import session_token as shopify_session_token

from patronkit.adapters.shopify.shop_domain import InvalidShopDomain, normalize_shop_domain


class SessionTokenInvalid(Exception):
    """The session token is missing, malformed, forged, expired or for another app/shop."""


@dataclass(frozen=True)
class SessionToken:
    shop_domain: str
    user_id: str  # `sub`: the staff member's Shopify user id
    session_id: str  # `sid`
    expires_at: datetime


def decode_session_token(
    authorization_header: str | None, *, client_id: str, client_secret: str
) -> SessionToken:
    """Verify the ``Authorization`` header value and return the token's claims."""
    if not authorization_header:
        raise SessionTokenInvalid("Authorization header is missing")
    try:
        claims: dict[str, Any] = shopify_session_token.decode_from_header(
            authorization_header, client_id, client_secret
        )
    except shopify_session_token.SessionTokenError as exc:
        # PyJWT messages name the failed check ("Signature has expired"), not the token.
        raise SessionTokenInvalid(f"session token rejected: {exc}") from None
    except (TypeError, ValueError, AttributeError):
        # Claims of the wrong type (e.g. a numeric `iss`) trip the library's URL handling.
        raise SessionTokenInvalid("session token has malformed claims") from None

    issuer_host = _host(claims.get("iss"))
    dest_host = _host(claims.get("dest"))
    if issuer_host is None or dest_host is None or issuer_host != dest_host:
        raise SessionTokenInvalid("session token dest and iss name different hosts")
    try:
        shop_domain = normalize_shop_domain(dest_host)
    except InvalidShopDomain:
        raise SessionTokenInvalid("session token names an invalid shop") from None

    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise SessionTokenInvalid("session token has no expiry")
    user_id, session_id = claims.get("sub"), claims.get("sid")
    if not isinstance(user_id, str | int) or not isinstance(session_id, str):
        raise SessionTokenInvalid("session token has malformed sub/sid")
    return SessionToken(
        shop_domain=shop_domain,
        user_id=str(user_id),
        session_id=session_id,
        expires_at=datetime.fromtimestamp(expires, tz=UTC),
    )


def _host(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    return parts.hostname.lower()
