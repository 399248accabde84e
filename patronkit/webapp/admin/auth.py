"""Who is asking: every admin request proves a store and a staff member, or gets 401.

The proof is either the platform's own admin credential, verified by its gateway
(`StorefrontGateway.authenticate_admin`: for Shopify, App Bridge's session token), or an
admin session we derived from one a moment ago. No cookies: the pages live in the platform
admin's iframe, where browsers drop third-party cookies. So:

- a page's first load carries the platform's token (Shopify appends ``id_token`` to the
  app's URL; JS may send ``Authorization: Bearer <token>``);
- the page we answer holds our session (signed with the app's secret key, salted, valid for
  SESSION_LIFETIME from the platform's proof, never extended by using it): its links carry
  it as the ``pk_session`` query parameter, its forms as a field, its JS as a Bearer header;
- the page's JS swaps it for a fresh one before it expires, when the platform's bridge can
  mint a new platform token (POST /admin/session, which takes platform tokens only).

Each session has a random nonce; the CSRF token is that nonce signed under another salt, so
a form only works inside the session that rendered it. The store named by the proof is
looked up on every request: the merchant who owns its connection is the only tenant the
request can see, and an uninstalled store's sessions die with it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from flask import Request, current_app
from itsdangerous import URLSafeSerializer

from patronkit.bootstrap import Runtime
from patronkit.core.storefront import AdminAuthRejected, AdminIdentity, StorefrontGateway
from patronkit.webapp.signing import sign, unsign

log = logging.getLogger(__name__)

SESSION_PARAM = "pk_session"  # not "session": Shopify already puts one in the app URL
PLATFORM_TOKEN_PARAM = "id_token"  # noqa: S105 - a parameter name: Shopify's token on page load
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_SALT = "patronkit.admin-session"
CSRF_SALT = "patronkit.admin-csrf"
SESSION_LIFETIME = timedelta(minutes=15)


class Unauthorized(Exception):
    """No valid proof of a connected store (answer 401). The message is safe to show."""


@dataclass(frozen=True)
class AdminSession:
    platform: str
    shop_domain: str
    user_id: str
    nonce: str
    token: str  # the signed session, as links and forms carry it
    expires_at: int  # epoch seconds; the page's JS refreshes the session before then
    merchant_id: UUID
    shop_id: UUID
    from_platform: bool  # proven by a platform token in this very request

    @property
    def actor(self) -> str:
        """How consent evidence names this staff member."""
        return f"admin:{self.user_id}"

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.nonce)

    @property
    def expires_in(self) -> int:
        """Seconds left, as the page's script counts them on its own clock (a browser clock
        set minutes off must not make it refresh in a loop, or never)."""
        return max(0, self.expires_at - int(time.time()))


def csrf_token_for(nonce: str) -> str:
    return _csrf_serializer().dumps(nonce)


def csrf_valid(session: AdminSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf_token, given or "")


def _csrf_serializer() -> URLSafeSerializer:
    key = current_app.secret_key
    if not key:
        raise RuntimeError("SECRET_KEY is not set")
    return URLSafeSerializer(key, salt=CSRF_SALT)


def authenticate(request: Request, run: Runtime) -> AdminSession:
    """The request's admin session, or Unauthorized."""
    proven = _prove(request, run.gateways)
    with run.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain(proven.platform, proven.identity.shop_domain)
    if shop is None or not shop.active:
        raise Unauthorized("this store is not connected to patronkit: install the app first")
    return AdminSession(
        platform=proven.platform,
        shop_domain=shop.domain,
        user_id=proven.identity.user_id,
        nonce=proven.nonce,
        token=proven.token,
        expires_at=proven.expires_at,
        merchant_id=shop.merchant_id,
        shop_id=shop.id,
        from_platform=proven.from_platform,
    )


@dataclass(frozen=True)
class _Proof:
    platform: str
    identity: AdminIdentity
    nonce: str
    token: str
    expires_at: int
    from_platform: bool


def _prove(request: Request, gateways: Mapping[str, StorefrontGateway]) -> _Proof:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use Authorization: Bearer <token>")
        ours = _our_session(value.strip(), gateways)
        if ours is not None:
            return ours
        return _from_platform(request, header, gateways)
    source = request.form if request.method == "POST" else request.args
    carried = source.get(SESSION_PARAM)
    if carried:
        ours = _our_session(carried, gateways)
        if ours is None:
            raise Unauthorized("your admin session expired: open the app again from your store")
        return ours
    platform_token = request.args.get(PLATFORM_TOKEN_PARAM) if request.method == "GET" else None
    if platform_token:
        return _from_platform(request, f"Bearer {platform_token}", gateways)
    raise Unauthorized("open this app from your store's admin")


def _our_session(token: str, gateways: Mapping[str, StorefrontGateway]) -> _Proof | None:
    value = unsign(SESSION_SALT, token, int(SESSION_LIFETIME.total_seconds()))
    if not isinstance(value, dict):
        return None
    platform, domain, user, nonce = (value.get(k) for k in ("p", "d", "u", "n"))
    expires_at = value.get("x")
    if not (
        isinstance(platform, str)
        and isinstance(domain, str)
        and isinstance(user, str)
        and isinstance(nonce, str)
        and isinstance(expires_at, int)
        and platform in gateways
        and domain
        and nonce
    ):
        return None
    return _Proof(platform, AdminIdentity(domain, user), nonce, token, expires_at, False)


def _from_platform(
    request: Request, authorization: str, gateways: Mapping[str, StorefrontGateway]
) -> _Proof:
    """Verify a platform token with the named platform's gateway, or with each in turn: only
    the one whose app secret signed it accepts it."""
    named = request.values.get("platform")
    if named:
        if named not in gateways:
            raise Unauthorized("unknown platform")
        candidates = [named]
    else:
        candidates = sorted(gateways)
    for platform in candidates:
        try:
            identity = gateways[platform].authenticate_admin(authorization)
        except AdminAuthRejected as exc:
            # Never the token itself: the reason names the failed check only.
            log.info("admin token refused by %s: %s", platform, exc)
            continue
        nonce, token, expires_at = issue(platform, identity)
        return _Proof(platform, identity, nonce, token, expires_at, True)
    raise Unauthorized("invalid or expired session token: open the app again from your store")


def issue(platform: str, identity: AdminIdentity) -> tuple[str, str, int]:
    """A new session (nonce, signed token, expiry) for a platform-proven identity. The
    signature's own timestamp is what unsign checks; the expiry is told to the page."""
    nonce = secrets.token_urlsafe(16)
    expires_at = int(time.time() + SESSION_LIFETIME.total_seconds())
    payload: dict[str, Any] = {
        "p": platform,
        "d": identity.shop_domain,
        "u": identity.user_id,
        "n": nonce,
        "x": expires_at,
    }
    return nonce, sign(SESSION_SALT, payload), expires_at
