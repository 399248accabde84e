"""The gate in front of every admin view: authentication and CSRF before, headers after.

A refused request gets 401 (no valid proof of a connected store) or 403 (a POST without this
session's CSRF token): JSON for API calls, a small page otherwise. The page offers a way back
(the app's entry in the store's admin) and its script retries once with a fresh platform
token when the platform's bridge is there to mint one.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from flask import Response, g, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from patronkit.core.storefront import AdminEmbedding
from patronkit.webapp.admin import headers
from patronkit.webapp.admin.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    PLATFORM_TOKEN_PARAM,
    SESSION_PARAM,
    AdminSession,
    Unauthorized,
    authenticate,
    csrf_valid,
)
from patronkit.webapp.admin.notices import current_notice
from patronkit.webapp.services import runtime

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset({"admin.static"})  # CSS and JS: no data, loaded without headers
# Takes platform tokens only, in a header: nothing a cross-site form could send.
CSRF_EXEMPT_ENDPOINTS = frozenset({"admin.refresh_session"})
JSON_ENDPOINTS = frozenset({"admin.refresh_session"})


def current() -> AdminSession:
    """The authenticated session of this request (the gate ran before any view)."""
    return cast(AdminSession, g.admin_session)


def before() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    try:
        session = authenticate(request, runtime())
    except Unauthorized as exc:
        return refuse(401, str(exc))
    g.admin_session = session
    if request.method == "POST" and request.endpoint not in CSRF_EXEMPT_ENDPOINTS:
        given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        if not csrf_valid(session, given):
            log.info("admin POST without this session's CSRF token (%s)", request.endpoint)
            return refuse(403, "this form has expired: reload the page and try again")
    return None


def after(response: Response) -> Response:
    session: AdminSession | None = g.get("admin_session")
    response.headers["Content-Security-Policy"] = headers.content_security_policy(
        embedding(session)
    )
    response.headers["Referrer-Policy"] = "same-origin"  # links carry the session
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def embedding(session: AdminSession | None) -> AdminEmbedding:
    gateways = runtime().gateways
    if session is not None:
        return gateways[session.platform].admin_embedding(session.shop_domain)
    return headers.merged([gateway.admin_embedding(None) for gateway in gateways.values()])


def wants_json() -> bool:
    return request.path.startswith("/admin/api/") or request.endpoint in JSON_ENDPOINTS


def refuse(status: int, message: str) -> ResponseReturnValue:
    if wants_json():
        response = jsonify(error="unauthorized" if status == 401 else "forbidden", detail=message)
        response.status_code = status
        return response
    # A refused page load may be retried with a fresh platform token; a refused POST may not
    # (its form would be lost), so its page only explains.
    retry = PLATFORM_TOKEN_PARAM if status == 401 and request.method == "GET" else None
    page = render_template(
        "admin/refused.html",
        heading="Sign-in needed" if status == 401 else "Please reload the page",
        message=message,
        entry_url=_entry_url(),
        retry_param=retry,
    )
    return page, status


def not_found(_error: Exception) -> ResponseReturnValue:
    """404 inside the admin: the object is not this merchant's (or does not exist)."""
    if g.get("admin_session") is None:
        return "Not found", 404
    return render_template("admin/not_found.html"), 404


def _entry_url() -> str | None:
    """Where to open the app inside the store's admin, if the request names a store."""
    platform, shop = request.args.get("platform"), request.args.get("shop")
    gateway = runtime().gateways.get(platform or "")
    if gateway is None or not shop:
        return None
    try:
        return gateway.admin_embedding(shop).entry_url
    except ValueError:  # not a store of that platform
        return None


def template_context() -> dict[str, Any]:
    session: AdminSession | None = g.get("admin_session")
    return {
        "admin": session,
        "admin_url": admin_url,
        "embedding": embedding(session),
        "SESSION_PARAM": SESSION_PARAM,
        "CSRF_FIELD": CSRF_FIELD,
        "notice": current_notice(),
    }


def admin_url(endpoint: str, **values: Any) -> str:
    """A link inside the admin: it carries the session, as pages have no cookie."""
    values[SESSION_PARAM] = current().token
    return url_for(endpoint, **values)
