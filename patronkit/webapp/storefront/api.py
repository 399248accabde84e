"""The public storefront API under /storefront/v1 (documented in
patronkit/webapp/static/storefront-openapi.json).

Shops are named by platform and shop domain (public values); the merchant is found from the
shop connection. Before any route runs: the per-IP limit, the CORS origin check (preflights
are answered here), and the per-shop limit.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from patronkit.core.domain.consent import Channel
from patronkit.webapp.storefront import cors, links, payloads
from patronkit.webapp.storefront.http import (
    enforce,
    limit_by_ip,
    refusal_response,
    shopper,
)
from patronkit.webapp.storefront.model import (
    PREFERENCE_API_TOUCHPOINT,
    STOREFRONT_CHANNELS,
    TOUCHPOINTS,
    PreferenceView,
    Refusal,
    parse_locale,
)
from patronkit.webapp.storefront.services import storefront

bp = Blueprint("storefront_api", __name__, url_prefix="/storefront/v1")

OPENAPI_FILE = "storefront-openapi.json"


@bp.errorhandler(Refusal)
def refused(refusal: Refusal) -> ResponseReturnValue:
    return refusal_response(refusal)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = payloads.MAX_BODY_BYTES
    return refusal_response(Refusal(413, "body_too_large", f"the body exceeds {limit} bytes"))


def _allowed_origins() -> frozenset[str] | None:
    """The origins that may call this route; None when anyone may (the spec file)."""
    args = request.view_args or {}
    if "platform" in args:
        allowed = storefront().origins.for_shop(args["platform"], args["shop"])
        if allowed is None:
            raise Refusal(404, "unknown_shop", "no connected shop with that platform and domain")
        return allowed
    if "token" in args:
        claim = _preference_claim(args["token"])
        return storefront().origins.for_merchant(claim.merchant_id)
    return None


@bp.before_request
def guard() -> ResponseReturnValue | None:
    limit_by_ip()
    origin = request.headers.get("Origin")
    allowed = _allowed_origins()
    if request.method == "OPTIONS":
        if allowed is None:
            return Response(status=204, headers={"Access-Control-Allow-Origin": "*"})
        methods = request.url_rule.methods if request.url_rule else set()
        return cors.preflight(
            origin,
            allowed,
            methods or (),
            request.headers.get("Access-Control-Request-Method"),
            request.headers.get("Access-Control-Request-Headers"),
        )
    if allowed is not None and origin is not None and origin not in allowed:
        return cors.refused("this origin may not call the storefront API for this shop")
    g.storefront_origin = origin if allowed is not None else "*"
    args = request.view_args or {}
    if "platform" in args:
        enforce(storefront().per_shop, f"shop:{args['platform']}:{args['shop'].lower()}")
    return None


@bp.after_request
def allow_origin(response: Response) -> Response:
    origin = g.get("storefront_origin")
    if origin:
        cors.allow(response, origin)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- the consent form and submissions ---------------------------------------------------------


@bp.get("/shops/<platform>/<shop>/consent-form")
def consent_form(platform: str, shop: str) -> ResponseReturnValue:
    locale = parse_locale(request.args.get("locale"))
    wanted = _channels_param(request.args.get("channels"))
    form = storefront().capture.form(platform, shop, locale, wanted)
    return {
        "shop": {"platform": form.shop.platform, "domain": form.shop.domain},
        "locale": form.locale,
        "texts": form.texts,
        "channels": [channel.as_dict() for channel in form.channels],
        "touchpoints": sorted(TOUCHPOINTS),
    }


@bp.post("/shops/<platform>/<shop>/consents")
def submit_consent(platform: str, shop: str) -> ResponseReturnValue:
    submission = payloads.submission(payloads.json_object(request))
    outcome = storefront().capture.submit(platform, shop, submission, shopper())
    return {"status": outcome.status}, 200


@bp.post("/shops/<platform>/<shop>/preference-link")
def send_preference_link(platform: str, shop: str) -> ResponseReturnValue:
    email, locale = payloads.preference_link_request(payloads.json_object(request))
    storefront().capture.request_preference_link(platform, shop, email, locale)
    return {"status": "sent_if_known"}, 202


# -- the preference link ----------------------------------------------------------------------


@bp.get("/preferences/<token>")
def read_preferences(token: str) -> ResponseReturnValue:
    claim = _preference_claim(token)
    locale = parse_locale(request.args.get("locale") or claim.locale)
    return _view(storefront().preferences.view(claim, locale))


@bp.post("/preferences/<token>")
def change_preferences(token: str) -> ResponseReturnValue:
    claim = _preference_claim(token)
    choices, seen, locale = payloads.preference_change(payloads.json_object(request))
    view = storefront().preferences.change(
        claim,
        locale=locale,
        choices=choices,
        seen=seen,
        shopper=shopper(),
        touchpoint=PREFERENCE_API_TOUCHPOINT,
    )
    return _view(view)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    spec = resources.files("patronkit.webapp").joinpath("static", OPENAPI_FILE).read_bytes()
    return Response(spec, mimetype="application/json")


def _preference_claim(token: str) -> links.PreferenceClaim:
    try:
        return links.read_preference_token(token)
    except links.LinkRefused as exc:
        if exc.expired:
            raise Refusal(410, "link_expired", "this preference link has expired") from None
        raise Refusal(400, "invalid_link", "this preference link is not valid") from None


def _channels_param(value: str | None) -> tuple[Channel, ...] | None:
    if not value:
        return None
    offered = {channel.value: channel for channel in STOREFRONT_CHANNELS}
    channels = []
    for name in value.split(","):
        if name.strip() not in offered:
            known = ", ".join(offered)
            raise Refusal(422, "unknown_channel", f"unknown channel {name.strip()!r}; use {known}")
        channels.append(offered[name.strip()])
    return tuple(dict.fromkeys(channels))


def _view(view: PreferenceView) -> dict[str, Any]:
    return {
        "locale": view.locale,
        "texts": view.texts,
        "channels": [channel.as_dict() for channel in view.channels],
    }
