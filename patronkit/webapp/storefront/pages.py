"""Pages a shopper opens from an email: the double opt-in confirmation and the preference
page (GET /p/<token>).

The preference form is safe against cross-site posting twice over: the person's signed token
is in the URL (a foreign page cannot know it), and the form posts a short-lived signed form
token that only this page hands out. Pages are never cached, framed, or sent as a referrer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from patronkit.core.domain.consent import Channel, ConsentState
from patronkit.core.domain.settings import DEFAULT_TEXTS
from patronkit.webapp.ratelimit import retry_after_header
from patronkit.webapp.services import runtime
from patronkit.webapp.storefront import links
from patronkit.webapp.storefront.http import limit_by_ip, shopper
from patronkit.webapp.storefront.model import (
    PREFERENCE_PAGE_TOUCHPOINT,
    Refusal,
    SeenWording,
    parse_locale,
)
from patronkit.webapp.storefront.notifier import preference_url
from patronkit.webapp.storefront.services import storefront

bp = Blueprint("storefront_pages", __name__, template_folder="templates")

MAX_FORM_BYTES = 8 * 1024
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL holds the person's token
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@bp.after_request
def protect(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.errorhandler(Refusal)
def refused(refusal: Refusal) -> ResponseReturnValue:
    response = _message(refusal.status, DEFAULT_TEXTS["error"], refusal.message, ok=False)
    if "retry_after" in refusal.extra:
        response.headers["Retry-After"] = retry_after_header(refusal.extra["retry_after"])
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_: RequestEntityTooLarge) -> ResponseReturnValue:
    return _message(413, DEFAULT_TEXTS["error"], "The form was too large.", ok=False)


@bp.before_request
def limit() -> None:
    limit_by_ip()


# -- double opt-in ----------------------------------------------------------------------------


@bp.get("/storefront/v1/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    """The link in the email only shows a button: mail scanners and link previews open links
    by themselves, and such a visit must not count as the person's confirmation."""
    try:
        claim = links.read_confirmation_token(token)
    except links.LinkRefused as exc:
        return _link_problem(exc)
    texts = _texts(claim.merchant_id, claim.locale)
    html = render_template(
        "storefront/confirm.html",
        title=texts["confirm_title"],
        message=texts["confirm_intro"],
        button=texts["confirm_button"],
        action=url_for(".confirm", token=token),
        lang=claim.locale,
    )
    return Response(html, status=200, mimetype="text/html")


@bp.post("/storefront/v1/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    try:
        claim = links.read_confirmation_token(token)
    except links.LinkRefused as exc:
        return _link_problem(exc)
    outcome = storefront().preferences.confirm(claim, shopper())
    texts = _texts(claim.merchant_id, claim.locale)
    manage = preference_url(
        runtime().settings.public_url,
        links.preference_token(claim.merchant_id, outcome.customer_id, claim.locale),
    )
    if not outcome.confirmed and not outcome.already:
        # Withdrawn after signing up: an old link must not undo that.
        return _message(
            409,
            texts["preferences_title"],
            texts["link_invalid"],
            ok=False,
            link=manage,
            link_text=texts["manage"],
            lang=claim.locale,
        )
    return _message(
        200,
        texts["confirmed"],
        texts["confirmed"],
        ok=True,
        link=manage,
        link_text=texts["manage"],
        lang=claim.locale,
    )


# -- the preference page ----------------------------------------------------------------------


@bp.get("/p/<token>")
def preference_page(token: str) -> ResponseReturnValue:
    try:
        claim = links.read_preference_token(token)
    except links.LinkRefused as exc:
        return _link_problem(exc)
    locale = parse_locale(request.args.get("locale") or claim.locale)
    return _preference_page(token, claim, locale, saved=request.args.get("saved") == "1")


@bp.post("/p/<token>")
def change_preferences(token: str) -> ResponseReturnValue:
    try:
        claim = links.read_preference_token(token)
    except links.LinkRefused as exc:
        return _link_problem(exc)
    if request.mimetype != "application/x-www-form-urlencoded":
        raise Refusal(415, "unsupported_media_type", "post the preference form as a form")
    request.max_content_length = MAX_FORM_BYTES
    form = request.form
    try:
        links.check_form_token(form.get("form_token"), claim)
    except links.LinkRefused:
        return _preference_page(
            token,
            claim,
            parse_locale(form.get("locale")),
            status=400,
            problem="This page was open too long. Please make your choice again.",
        )
    locale = parse_locale(form.get("locale") or claim.locale)
    preferences = storefront().preferences
    try:
        if form.get("action") == "withdraw_all":
            preferences.withdraw_all(claim, locale, shopper(), PREFERENCE_PAGE_TOUCHPOINT)
        else:
            view = preferences.view(claim, locale)
            # Only boxes the shopper changed: an untouched box must not turn a pending
            # sign-up into a withdrawal.
            choices = {
                item.channel: form.get(f"consent_{item.channel.value}") == "yes"
                for item in view.channels
            }
            shown = {item.channel: item.state is ConsentState.SUBSCRIBED for item in view.channels}
            changed = {ch: yes for ch, yes in choices.items() if yes != shown[ch]}
            seen = _seen(form.to_dict(), changed)
            preferences.change(
                claim,
                locale=locale,
                choices=changed,
                seen=seen,
                shopper=shopper(),
                touchpoint=PREFERENCE_PAGE_TOUCHPOINT,
            )
    except Refusal as refusal:
        if refusal.status in (409, 422):
            return _preference_page(
                token, claim, locale, status=refusal.status, problem=refusal.message
            )
        raise
    return redirect(url_for(".preference_page", token=token, saved="1", locale=locale), 303)


def _seen(form: Mapping[str, str], channels: Iterable[Channel]) -> dict[Channel, SeenWording]:
    """The wording version and hash each changed box showed (hidden fields beside it)."""
    seen = {}
    for channel in channels:
        version, _, sha256 = form.get(f"wording_{channel.value}", "").partition(":")
        if version.isdigit():
            seen[channel] = SeenWording(int(version), sha256)
    return seen


def _preference_page(
    token: str,
    claim: links.PreferenceClaim,
    locale: str,
    *,
    saved: bool = False,
    status: int = 200,
    problem: str | None = None,
) -> ResponseReturnValue:
    view = storefront().preferences.view(claim, locale)
    html = render_template(
        "storefront/preferences.html",
        title=view.texts["preferences_title"],
        lang=locale,
        locale=locale,
        texts=view.texts,
        channels=view.channels,
        form_token=links.form_token(claim),
        action=url_for(".change_preferences", token=token),
        saved=saved,
        problem=problem,
    )
    return html, status


def _texts(merchant_id: UUID, locale: str) -> dict[str, str]:
    with runtime().unit_of_work(read_only=True) as uow:
        return uow.tenant(merchant_id).settings.get().texts_for(locale)


def _link_problem(problem: links.LinkRefused) -> Response:
    status = 410 if problem.expired else 400
    return _message(status, DEFAULT_TEXTS["link_invalid"], DEFAULT_TEXTS["link_invalid"], ok=False)


def _message(
    status: int,
    title: str,
    message: str,
    *,
    ok: bool,
    link: str | None = None,
    link_text: str | None = None,
    lang: str = "en",
) -> Response:
    html = render_template(
        "storefront/message.html",
        title=title,
        message=message,
        ok=ok,
        link=link,
        link_text=link_text,
        lang=lang,
    )
    return Response(html, status=status, mimetype="text/html")
