"""The storefront consent API: the form, submissions and their evidence, and bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.settings import MerchantSettings
from patronkit.core.domain.values import utcnow
from patronkit.sync.tables import outbox
from tests.webapp.storefront import mailbox
from tests.webapp.storefront.conftest import (
    EMAIL_TEXT,
    EMAIL_TEXT_DE,
    SHOP_DOMAIN,
    SMS_TEXT,
    Shop,
)

UA = "Mozilla/5.0 (TestBrowser)"


# -- the form ---------------------------------------------------------------------------------


def test_the_form_offers_each_channel_with_its_exact_current_wording(shop: Shop) -> None:
    answer = shop.client.get(f"{shop.base}/consent-form?locale=en")
    assert answer.status_code == 200
    form = answer.get_json()
    assert form["shop"] == {"platform": "shopify", "domain": SHOP_DOMAIN}
    offered = {c["channel"]: c for c in form["channels"]}
    assert set(offered) == {"email", "sms"}
    email = offered["email"]
    assert email["wording"]["text"] == EMAIL_TEXT
    assert email["wording"]["version"] == 2  # the newest, not version 1
    assert email["wording"]["sha256"] == shop.wordings["email"].sha256
    assert (email["double_opt_in"], offered["sms"]["double_opt_in"]) == (True, False)
    assert offered["sms"]["wording"]["text"] == SMS_TEXT
    assert form["texts"]["submit"] == "Subscribe"
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_form_falls_back_to_the_language_then_english(shop: Shop) -> None:
    shop.settings(lambda s: s.set_widget_texts("de", {"submit": "Anmelden"}))
    form = shop.client.get(f"{shop.base}/consent-form?locale=de-AT").get_json()
    offered = {c["channel"]: c["wording"] for c in form["channels"]}
    assert offered["email"]["text"] == EMAIL_TEXT_DE
    assert offered["sms"]["text"] == SMS_TEXT  # no German SMS wording: English
    assert form["texts"]["submit"] == "Anmelden"
    assert form["locale"] == "de-AT"


def test_the_form_can_be_narrowed_to_some_channels(shop: Shop) -> None:
    form = shop.client.get(f"{shop.base}/consent-form?channels=sms").get_json()
    assert [c["channel"] for c in form["channels"]] == ["sms"]
    assert shop.client.get(f"{shop.base}/consent-form?channels=postal").status_code == 422


def test_an_unknown_shop_is_404(shop: Shop) -> None:
    answer = shop.client.get("/storefront/v1/shops/shopify/nobody.myshopify.com/consent-form")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "unknown_shop"
    assert shop.client.get(f"/storefront/v1/shops/woo/{SHOP_DOMAIN}/consent-form").status_code == (
        404
    )


# -- submissions ------------------------------------------------------------------------------


def test_double_opt_in_records_pending_with_evidence_and_mails_a_confirmation(shop: Shop) -> None:
    answer = shop.client.post(
        f"{shop.base}/consents", json=shop.submission(), headers={"User-Agent": UA}
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "confirmation_sent"}
    customer = shop.customer("new.shopper@example.com")
    [event] = customer.consent_events
    wording = shop.wordings["email"]
    assert (event.channel, event.state, event.opt_in_level) == (
        Channel.EMAIL,
        ConsentState.PENDING,
        OptInLevel.SINGLE,
    )
    assert event.source.kind is SourceKind.WIDGET
    assert event.evidence.as_dict() == {
        "wording_id": str(wording.id),
        "wording_version": 2,
        "wording_sha256": wording.sha256,
        "touchpoint": "product_page",
        "ip": "127.0.0.1",
        "user_agent": UA,
        "actor": "shopper",
    }
    [path] = shop.mails()
    message = mailbox.read(path)
    assert message["To"] == "new.shopper@example.com"
    assert message["Subject"] == "Please confirm your subscription"
    assert mailbox.link(message, "/storefront/v1/confirm/").startswith("http://app.test/")
    manage = mailbox.link(message, "/p/")
    assert message["List-Unsubscribe"] == f"<{manage}>"


def test_single_opt_in_channel_records_subscribed_and_sends_no_mail(shop: Shop) -> None:
    sms = shop.wordings["sms"]
    body = shop.submission(
        email=None,
        phone="+44 7700 900123",
        channels={
            "sms": {"consent": True, "wording_version": 1, "wording_sha256": sms.sha256},
            "email": {"consent": False},
        },
        touchpoint="cart",
    )
    answer = shop.client.post(f"{shop.base}/consents", json=body)
    assert answer.get_json() == {"status": "subscribed"}
    [customer] = shop.customers()
    assert customer.phone == "+447700900123" and customer.email is None
    status = customer.consent(Channel.SMS)
    assert status is not None
    assert (status.state, status.opt_in_level) == (ConsentState.SUBSCRIBED, OptInLevel.SINGLE)
    assert customer.consent(Channel.EMAIL) is None  # an unticked box records nothing
    assert shop.mails() == []
    # The same phone again finds the same person.
    assert shop.client.post(f"{shop.base}/consents", json=body).status_code == 200
    assert len(shop.customers()) == 1


def test_a_known_subscriber_is_not_downgraded_but_gets_the_confirmation(shop: Shop) -> None:
    shop.client.post(f"{shop.base}/consents", json=shop.submission())
    customer = shop.customer("new.shopper@example.com")
    shop.runtime.sync.change_consent(
        ConsentEvent(
            merchant_id=shop.merchant_id,
            customer_id=customer.id,
            channel=Channel.EMAIL,
            state=ConsentState.SUBSCRIBED,
            opt_in_level=OptInLevel.CONFIRMED,
            source=ConsentSource(SourceKind.ADMIN),
            occurred_at=utcnow() + timedelta(seconds=1),  # after the pending sign-up
        )
    )
    answer = shop.client.post(f"{shop.base}/consents", json=shop.submission())
    assert answer.get_json() == {"status": "confirmation_sent"}
    status = shop.customer("new.shopper@example.com").consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.SUBSCRIBED
    assert len(shop.mails()) == 2


def test_a_linked_customer_gets_a_push_queued_for_the_store(shop: Shop) -> None:
    shop.client.post(f"{shop.base}/consents", json=shop.submission())
    with shop.runtime.unit_of_work() as uow:
        customer = uow.tenant(shop.merchant_id).customers.by_email("new.shopper@example.com")
        assert customer is not None
        customer.link(shop.shop_id, "gid-42")
        uow.commit()
    sms = shop.wordings["sms"]
    body = shop.submission(
        phone="+447700900123",
        channels={"sms": {"consent": True, "wording_version": 1, "wording_sha256": sms.sha256}},
    )
    # The known person has no phone on record: the storefront may not add one.
    shop.client.post(f"{shop.base}/consents", json=body)
    assert shop.customer("new.shopper@example.com").consent(Channel.SMS) is None
    shop.settings(lambda s: s.set_double_opt_in(Channel.EMAIL, False))
    shop.client.post(f"{shop.base}/consents", json=shop.submission())
    with shop.runtime.engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.shop_id, outbox.c.channel)).all()
    assert [(row.shop_id, row.channel) for row in rows] == [(shop.shop_id, "email")]


@pytest.mark.parametrize(
    ("trusted_proxies", "recorded"),
    [
        ("0", "127.0.0.1"),  # the header is anyone's say-so: the peer address counts
        ("1", "203.0.113.5"),  # behind one proxy: the address our proxy saw
        ("2", "198.51.100.9"),
        ("3", "127.0.0.1"),  # fewer hops than proxies: the header is not ours
    ],
)
def test_forwarded_for_counts_only_behind_trusted_proxies(
    make: Callable[..., Shop], trusted_proxies: str, recorded: str
) -> None:
    shop = make(PATRONKIT_TRUSTED_PROXIES=trusted_proxies)
    headers = {"X-Forwarded-For": "198.51.100.9, 203.0.113.5"}
    shop.client.post(f"{shop.base}/consents", json=shop.submission(), headers=headers)
    [event] = shop.customer("new.shopper@example.com").consent_events
    assert event.evidence.ip == recorded


def test_the_preference_link_is_mailed_to_known_addresses_only(shop: Shop) -> None:
    shop.client.post(f"{shop.base}/consents", json=shop.submission())
    before = len(shop.mails())
    known = shop.client.post(
        f"{shop.base}/preference-link", json={"email": "NEW.shopper@example.com"}
    )
    unknown = shop.client.post(f"{shop.base}/preference-link", json={"email": "x@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    [path] = shop.mails()[before:]
    message = mailbox.read(path)
    assert message["To"] == "new.shopper@example.com"
    assert "/p/" in mailbox.link(message, "/p/")


def test_mail_to_one_person_is_capped_silently(make: Callable[..., Shop]) -> None:
    shop = make(overrides={"STOREFRONT_MAIL_PER_PERSON": (2, 0.0001)})
    for _ in range(4):
        answer = shop.client.post(f"{shop.base}/consents", json=shop.submission())
        assert answer.get_json() == {"status": "confirmation_sent"}
    assert len(shop.mails()) == 2


# -- bad input changes nothing ----------------------------------------------------------------


def _sub(shop: Shop, **changes: Any) -> dict[str, Any]:
    return shop.submission(**changes)


def _email_choice(shop: Shop, **changes: Any) -> dict[str, Any]:
    wording = shop.wordings["email"]
    choice = {"consent": True, "wording_version": wording.version, "wording_sha256": wording.sha256}
    return {"email": {**choice, **changes}}


BAD_SUBMISSIONS: list[tuple[str, Callable[[Shop], dict[str, Any]], int, str]] = [
    ("unknown field", lambda s: _sub(s, name="Eve"), 400, "unknown_field"),
    ("channels not an object", lambda s: _sub(s, channels=["email"]), 400, "invalid_field"),
    ("consent not a boolean", lambda s: _sub(s, channels=_email_choice(s, consent="yes")), 400,
     "invalid_field"),
    ("version not a number", lambda s: _sub(s, channels=_email_choice(s, wording_version="2")),
     400, "invalid_field"),
    ("email not a string", lambda s: _sub(s, email=42), 400, "invalid_field"),
    ("touchpoint missing", lambda s: {k: v for k, v in _sub(s).items() if k != "touchpoint"},
     400, "invalid_field"),
    ("invalid email", lambda s: _sub(s, email="not-an-address"), 422, "invalid_email"),
    ("phone without country code", lambda s: _sub(s, phone="07700 900123"), 422, "invalid_phone"),
    ("unknown channel", lambda s: _sub(s, channels={"pigeon": {"consent": True}}), 422,
     "unknown_channel"),
    ("postal not offered", lambda s: _sub(s, channels={"postal": {"consent": True}}), 422,
     "unknown_channel"),
    ("no channel ticked", lambda s: _sub(s, channels=_email_choice(s, consent=False)), 422,
     "nothing_chosen"),
    ("no channels", lambda s: _sub(s, channels={}), 422, "nothing_chosen"),
    ("unknown touchpoint", lambda s: _sub(s, touchpoint="homepage-banner"), 422,
     "invalid_touchpoint"),
    ("bad locale", lambda s: _sub(s, locale="english"), 422, "invalid_locale"),
    ("email channel without email", lambda s: _sub(s, email=None), 422, "email_required"),
    ("wording not given", lambda s: _sub(s, channels={"email": {"consent": True}}), 422,
     "wording_missing"),
    ("hash of another text", lambda s: _sub(s, channels=_email_choice(s, wording_sha256="0" * 64)),
     422, "wording_mismatch"),
    ("an older wording version", lambda s: _sub(s, channels=_email_choice(
        s, wording_version=1, wording_sha256=s.wordings["email_v1"].sha256)), 409,
     "wording_changed"),
    ("sms double opt-in without email", lambda s: _sub(s, email=None, phone="+447700900123",
     channels={"sms": {"consent": True, "wording_version": 1,
                       "wording_sha256": s.wordings["sms"].sha256}}), 422, "email_required"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "body", "status", "code"), BAD_SUBMISSIONS, ids=[c[0] for c in BAD_SUBMISSIONS]
)
def test_a_bad_submission_is_refused_and_changes_nothing(
    shop: Shop, case: str, body: Callable[[Shop], dict[str, Any]], status: int, code: str
) -> None:
    shop.settings(lambda s: s.set_double_opt_in(Channel.SMS, True))
    before = shop.state()
    answer = shop.client.post(f"{shop.base}/consents", json=body(shop))
    assert (answer.status_code, answer.get_json()["error"]) == (status, code), case
    assert answer.get_json()["message"]
    assert shop.state() == before


def test_a_changed_wording_answer_carries_the_current_one(shop: Shop) -> None:
    v1 = shop.wordings["email_v1"]
    body = shop.submission(
        channels={"email": {"consent": True, "wording_version": 1, "wording_sha256": v1.sha256}}
    )
    answer = shop.client.post(f"{shop.base}/consents", json=body)
    assert answer.status_code == 409
    assert answer.get_json()["current"]["text"] == EMAIL_TEXT


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b'{"email": "a@b.co"}', "text/plain", 415, "unsupported_media_type"),
        (b"email=a@b.co", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"{not json", "application/json", 400, "invalid_json"),
        (b'["a list"]', "application/json", 400, "invalid_json"),
        (b'{"email": "' + b"a" * 20_000 + b'"}', "application/json", 413, "body_too_large"),
    ],
)
def test_malformed_bodies_are_refused_and_change_nothing(
    shop: Shop, data: bytes, content_type: str, status: int, code: str
) -> None:
    before = shop.state()
    answer = shop.client.post(f"{shop.base}/consents", data=data, content_type=content_type)
    assert (answer.status_code, answer.get_json()["error"]) == (status, code)
    assert shop.state() == before


def test_unknown_shop_submission_changes_nothing(shop: Shop) -> None:
    before = shop.state()
    answer = shop.client.post(
        "/storefront/v1/shops/shopify/other.myshopify.com/consents", json=shop.submission()
    )
    assert answer.status_code == 404
    assert shop.state() == before


def test_a_disconnected_shop_is_unknown(shop: Shop) -> None:
    with shop.runtime.unit_of_work() as uow:
        uow.tenant(shop.merchant_id).shops.get(shop.shop_id).mark_uninstalled(utcnow())
        uow.commit()
    answer = shop.client.post(f"{shop.base}/consents", json=shop.submission())
    assert answer.status_code == 404
    assert shop.customers() == []


def test_settings_defaults_apply_when_never_saved(shop: Shop) -> None:
    with shop.runtime.unit_of_work(read_only=True) as uow:
        settings = uow.tenant(shop.merchant_id).settings.get()
    assert isinstance(settings, MerchantSettings)
    assert settings.double_opt_in_for(Channel.EMAIL)


def test_no_personal_data_in_the_logs(shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    headers = {"User-Agent": UA}
    shop.client.post(f"{shop.base}/consents", json=shop.submission(), headers=headers)
    shop.client.post(f"{shop.base}/consents", json=shop.submission(email="bad@"), headers=headers)
    shop.client.post(f"{shop.base}/preference-link", json={"email": "new.shopper@example.com"})
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for secret in ("new.shopper", "bad@", "127.0.0.1", UA):
        assert secret not in caplog.text
