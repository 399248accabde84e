"""Settings forms: each one changes the merchant's MerchantSettings through the model's own
methods, and a refused value changes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient

from patronkit.bootstrap import Runtime
from patronkit.core.domain.consent import Channel
from patronkit.core.domain.settings import MerchantSettings
from tests.webapp.admin.support import Seeded, login


def stored(runtime: Runtime, seeded: Seeded) -> MerchantSettings:
    with runtime.unit_of_work(read_only=True) as uow:
        return uow.tenant(seeded.merchant_id).settings.get()


def test_the_page_shows_the_settings(client: FlaskClient, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    html = client.get("/admin/settings", query_string=session.query()).get_data(as_text=True)
    # Defaults: double opt-in for email only.
    assert 'name="double_opt_in.email" checked' in html
    assert 'name="double_opt_in.sms">' in html
    assert 'value="alpha newsletter"' in html  # the seeded English title
    de = client.get("/admin/settings", query_string={**session.query(), "locale": "de"}).get_data(
        as_text=True
    )
    # German has no texts of its own: its fields are empty, showing the fallback.
    assert 'name="text.title" value=""' in de and 'placeholder="alpha newsletter"' in de


def test_double_opt_in_per_channel(client: FlaskClient, runtime: Runtime, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    response = client.post(
        "/admin/settings/double-opt-in", data=session.form(**{"double_opt_in.sms": "on"})
    )
    assert response.status_code == 303 and "notice=settings-saved" in response.headers["Location"]
    settings = stored(runtime, alpha)
    assert settings.double_opt_in_for(Channel.SMS)
    assert not settings.double_opt_in_for(Channel.EMAIL)


def test_widget_texts_per_locale(client: FlaskClient, runtime: Runtime, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    response = client.post(
        "/admin/settings/texts",
        data=session.form(
            locale="de", **{"text.title": "Bleiben Sie in Kontakt", "text.submit": "  "}
        ),
    )
    assert response.status_code == 303 and "locale=de" in response.headers["Location"]
    settings = stored(runtime, alpha)
    assert settings.widget_texts["de"] == {"title": "Bleiben Sie in Kontakt"}
    assert settings.texts_for("de")["submit"] == "Subscribe"  # empty: falls back
    assert settings.widget_texts["en"] == {"title": "alpha newsletter"}  # untouched


def test_storefront_origins(client: FlaskClient, runtime: Runtime, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    client.post(
        "/admin/settings/origins",
        data=session.form(origins="https://Shop.Alpha.example/\n\nhttps://alpha.example:8443\n"),
    )
    assert stored(runtime, alpha).storefront_origins == (
        "https://shop.alpha.example",
        "https://alpha.example:8443",
    )


def test_refused_values_change_nothing(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    before = stored(runtime, alpha)
    for path, fields, message in (
        ("/admin/settings/origins", {"origins": "ftp://alpha.example"}, "not an origin"),
        ("/admin/settings/origins", {"origins": "http://alpha.example"}, "must use https"),
        ("/admin/settings/texts", {"locale": "not a locale", "text.title": "x"}, "not a locale"),
    ):
        response = client.post(path, data=session.form(**fields))
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), fields
    after = stored(runtime, alpha)
    assert (after.storefront_origins, after.widget_texts) == (
        before.storefront_origins,
        before.widget_texts,
    )
