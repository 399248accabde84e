"""Signed links: the double opt-in confirmation, the preference page and its JSON twin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from itsdangerous import TimestampSigner

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.webapp.storefront import links
from tests.webapp.storefront import mailbox
from tests.webapp.storefront.conftest import EMAIL_TEXT, SHOP_ORIGIN, Shop

UA = "Mozilla/5.0 (LinkClicker)"
EMAIL = "new.shopper@example.com"


def path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_up(shop: Shop) -> tuple[str, str]:
    """Submit the widget form; returns the confirmation and preference link paths."""
    assert shop.client.post(f"{shop.base}/consents", json=shop.submission()).status_code == 200
    message = mailbox.read(shop.mails()[-1])
    return path(mailbox.link(message, "/confirm/")), path(mailbox.link(message, "/p/"))


@contextmanager
def signed_days_ago(days: int) -> Iterator[None]:
    """Tokens minted inside this block carry a timestamp `days` in the past."""
    original = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: int(time.time()) - days * 86_400  # type: ignore[method-assign]
    try:
        yield
    finally:
        TimestampSigner.get_timestamp = original  # type: ignore[method-assign]


def email_status(shop: Shop) -> tuple[ConsentState, OptInLevel]:
    status = shop.customer(EMAIL).consent(Channel.EMAIL)
    assert status is not None
    return status.state, status.opt_in_level


# -- double opt-in ----------------------------------------------------------------------------


def test_opening_the_link_only_shows_the_button_and_changes_nothing(shop: Shop) -> None:
    """Mail scanners and link previews open links by themselves: that is no confirmation."""
    confirm, _ = sign_up(shop)
    before = shop.state()
    page = shop.client.get(confirm, headers={"User-Agent": "LinkPreviewBot/1.0"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<form method="post" action="{confirm}">' in html
    assert 'id="confirm"' in html
    assert shop.state() == before
    assert email_status(shop) == (ConsentState.PENDING, OptInLevel.SINGLE)


def test_the_button_confirms_with_its_own_evidence_and_a_second_press_changes_nothing(
    shop: Shop,
) -> None:
    confirm, _ = sign_up(shop)
    answer = shop.client.post(confirm, headers={"User-Agent": UA})
    assert answer.status_code == 200
    assert "confirmed" in answer.get_data(as_text=True)
    assert email_status(shop) == (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)
    pending, confirmed = shop.customer(EMAIL).consent_events
    assert confirmed.occurred_at > pending.occurred_at  # even within the same second
    wording = shop.wordings["email"]
    assert confirmed.evidence.as_dict() == {
        "wording_id": str(wording.id),
        "wording_version": wording.version,
        "wording_sha256": wording.sha256,
        "touchpoint": "double_opt_in_link",
        "ip": "127.0.0.1",
        "user_agent": UA,
        "actor": "shopper",
    }
    before = shop.state()
    again = shop.client.post(confirm)
    assert again.status_code == 200
    assert shop.state() == before


def test_an_expired_confirmation_link_is_410_and_changes_nothing(shop: Shop) -> None:
    sign_up(shop)
    customer = shop.customer(EMAIL)
    with shop.app.app_context(), signed_days_ago(8):
        token = links.confirmation_token(
            shop.merchant_id, customer.id, "en", {Channel.EMAIL: shop.wordings["email"].id}
        )
    before = shop.state()
    for send in (shop.client.get, shop.client.post):
        answer = send(f"/storefront/v1/confirm/{token}")
        assert answer.status_code == 410
        assert "invalid or has expired" in answer.get_data(as_text=True)
    assert shop.state() == before
    assert email_status(shop) == (ConsentState.PENDING, OptInLevel.SINGLE)


def test_a_six_day_old_link_still_works(shop: Shop) -> None:
    sign_up(shop)
    customer = shop.customer(EMAIL)
    with shop.app.app_context(), signed_days_ago(6):
        token = links.confirmation_token(
            shop.merchant_id, customer.id, "en", {Channel.EMAIL: shop.wordings["email"].id}
        )
    assert shop.client.post(f"/storefront/v1/confirm/{token}").status_code == 200
    assert email_status(shop) == (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)


def test_tampered_and_misused_links_are_400_and_change_nothing(shop: Shop) -> None:
    confirm, manage = sign_up(shop)
    token = confirm.rsplit("/", 1)[1]
    payload, stamp, signature = token.rsplit(".", 2)
    forged = f"{payload[:-2]}xx.{stamp}.{signature}"
    before = shop.state()
    for bad in (
        f"/storefront/v1/confirm/{forged}",
        f"/storefront/v1/confirm/{token}A",
        # A preference token is signed for another purpose and confirms nothing.
        f"/storefront/v1/confirm/{manage.split('/p/')[1]}",
        "/storefront/v1/confirm/not-a-token",
    ):
        for send in (shop.client.get, shop.client.post):
            answer = send(bad)
            assert answer.status_code == 400, bad
            assert answer.mimetype == "text/html"
    assert shop.state() == before


def test_a_withdrawal_after_signing_up_wins_over_the_old_link(shop: Shop) -> None:
    confirm, manage = sign_up(shop)
    token = manage.split("/p/")[1]
    withdrawn = shop.client.post(
        f"/storefront/v1/preferences/{token}", json={"channels": {"email": {"consent": False}}}
    )
    assert withdrawn.status_code == 200
    answer = shop.client.post(confirm)
    assert answer.status_code == 409
    assert email_status(shop)[0] is ConsentState.UNSUBSCRIBED


# -- the preference page ----------------------------------------------------------------------


def test_the_preference_page_shows_the_wording_and_state(shop: Shop) -> None:
    confirm, manage = sign_up(shop)
    shop.client.post(confirm)
    page = shop.client.get(manage)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert EMAIL_TEXT in html
    assert 'id="consent-email"' in html and "checked" in html
    assert 'data-state="subscribed"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def _form_token(html: str) -> str:
    marker = 'name="form_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_unticking_on_the_page_withdraws_with_evidence(shop: Shop) -> None:
    confirm, manage = sign_up(shop)
    shop.client.post(confirm)
    form_token = _form_token(shop.client.get(manage).get_data(as_text=True))
    answer = shop.client.post(
        manage,
        data={"form_token": form_token, "locale": "en", "action": "save"},
        headers={"User-Agent": UA},
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("saved=1&locale=en")
    assert email_status(shop)[0] is ConsentState.UNSUBSCRIBED
    last = shop.customer(EMAIL).consent_events[-1]
    assert (last.evidence.touchpoint, last.evidence.user_agent, last.evidence.actor) == (
        "preference_page",
        UA,
        "shopper",
    )
    saved = shop.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Your preferences have been saved." in saved
    assert 'data-state="unsubscribed"' in saved


def test_ticking_on_the_page_subscribes_confirmed_and_an_untouched_pending_box_stays(
    shop: Shop,
) -> None:
    _, manage = sign_up(shop)  # pending
    html = shop.client.get(manage).get_data(as_text=True)
    form = {"form_token": _form_token(html), "locale": "en", "action": "save"}
    shop.client.post(manage, data=form)  # nothing ticked, nothing changed
    assert email_status(shop) == (ConsentState.PENDING, OptInLevel.SINGLE)
    wording = shop.wordings["email"]
    ticked = {**form, "consent_email": "yes", "wording_email": f"2:{wording.sha256}"}
    assert shop.client.post(manage, data=ticked).status_code == 303
    assert email_status(shop) == (ConsentState.SUBSCRIBED, OptInLevel.CONFIRMED)


def test_withdraw_all_on_the_page(shop: Shop) -> None:
    confirm, manage = sign_up(shop)
    shop.client.post(confirm)
    form_token = _form_token(shop.client.get(manage).get_data(as_text=True))
    shop.client.post(manage, data={"form_token": form_token, "action": "withdraw_all"})
    assert email_status(shop)[0] is ConsentState.UNSUBSCRIBED


@pytest.mark.parametrize("form_token", [None, "", "forged", "other-person"])
def test_the_page_form_needs_its_own_form_token(shop: Shop, form_token: str | None) -> None:
    confirm, manage = sign_up(shop)
    shop.client.post(confirm)
    if form_token == "other-person":
        with shop.app.app_context():
            claim = links.PreferenceClaim(shop.merchant_id, UUID(int=1), "en")
            form_token = links.form_token(claim)
    before = shop.state()
    data = {
        "action": "withdraw_all",
        **({"form_token": form_token} if form_token is not None else {}),
    }
    answer = shop.client.post(manage, data=data)
    assert answer.status_code == 400
    assert shop.state() == before


def test_the_page_refuses_json_and_bad_tokens(shop: Shop) -> None:
    _, manage = sign_up(shop)
    before = shop.state()
    assert shop.client.post(manage, json={"action": "withdraw_all"}).status_code == 415
    assert shop.client.get(manage + "x").status_code == 400
    with shop.app.app_context(), signed_days_ago(800):
        old = links.preference_token(shop.merchant_id, shop.customer(EMAIL).id, "en")
    assert shop.client.get(f"/p/{old}").status_code == 410
    assert shop.state() == before


def test_a_changed_wording_on_the_page_asks_again(shop: Shop) -> None:
    _, manage = sign_up(shop)
    html = shop.client.get(manage).get_data(as_text=True)
    stale = shop.wordings["email_v1"]
    form = {
        "form_token": _form_token(html),
        "consent_email": "yes",
        "wording_email": f"1:{stale.sha256}",
    }
    answer = shop.client.post(manage, data=form)
    assert answer.status_code == 409
    assert EMAIL_TEXT in answer.get_data(as_text=True)  # the page shows the current wording
    assert email_status(shop)[0] is ConsentState.PENDING


# -- the preference link as JSON ----------------------------------------------------------------


def test_the_json_preference_api_reads_and_changes(shop: Shop) -> None:
    confirm, manage = sign_up(shop)
    shop.client.post(confirm)
    url = f"/storefront/v1/preferences/{manage.split('/p/')[1]}"
    read = shop.client.get(url, headers={"Origin": SHOP_ORIGIN})
    assert read.status_code == 200
    assert read.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    [email] = read.get_json()["channels"]
    assert (email["channel"], email["state"], email["opt_in_level"]) == (
        "email",
        "subscribed",
        "confirmed",
    )
    changed = shop.client.post(url, json={"channels": {"email": {"consent": False}}})
    assert changed.get_json()["channels"][0]["state"] == "unsubscribed"
    last = shop.customer(EMAIL).consent_events[-1]
    assert last.evidence.touchpoint == "preference_link"
    # Channels the person cannot be reached on are not offered (no phone on record).
    refused = shop.client.post(url, json={"channels": {"sms": {"consent": True}}})
    assert (refused.status_code, refused.get_json()["error"]) == (422, "channel_not_offered")
    foreign = shop.client.get(url, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_the_json_preference_api_refuses_bad_tokens(shop: Shop) -> None:
    assert shop.client.get("/storefront/v1/preferences/nope").status_code == 400
    answer = shop.client.post(
        "/storefront/v1/preferences/nope", json={"channels": {"email": {"consent": False}}}
    )
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_link")
