"""MerchantSettings: defaults, validated setters, and the text fallback chain."""

from __future__ import annotations

from uuid import uuid4

import pytest

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.errors import InvalidValue, UnknownChannel
from patronkit.core.domain.settings import (
    DEFAULT_TEXTS,
    MAX_TEXT_LENGTH,
    MerchantSettings,
    normalize_origin,
)


def fresh() -> MerchantSettings:
    return MerchantSettings(merchant_id=uuid4())


def test_defaults_confirm_email_only() -> None:
    settings = fresh()
    assert settings.double_opt_in_for(Channel.EMAIL) is True
    assert [c for c in Channel if settings.double_opt_in_for(c)] == [Channel.EMAIL]
    assert settings.storefront_origins == ()
    assert settings.texts_for("en") == dict(DEFAULT_TEXTS)


def test_double_opt_in_is_set_per_channel_and_stamps_the_change() -> None:
    settings = fresh()
    before = settings.updated_at
    settings.set_double_opt_in("sms", True)
    settings.set_double_opt_in(Channel.EMAIL, False)
    assert settings.double_opt_in_for("sms") and not settings.double_opt_in_for("email")
    assert settings.updated_at >= before
    with pytest.raises(UnknownChannel):
        settings.set_double_opt_in("pigeon", True)
    with pytest.raises(InvalidValue):
        settings.set_double_opt_in(Channel.SMS, "yes")  # type: ignore[arg-type]


def test_texts_fall_back_from_locale_to_language_to_english_key_by_key() -> None:
    settings = fresh()
    settings.set_widget_texts("en", {"title": "Join us"})
    settings.set_widget_texts("de", {"title": "Bleib dabei", "submit": "Anmelden"})
    settings.set_widget_texts("de_ch", {"submit": "Abonnieren"})
    swiss = settings.texts_for("de-CH")
    assert (swiss["title"], swiss["submit"]) == ("Bleib dabei", "Abonnieren")
    assert swiss["thanks"] == DEFAULT_TEXTS["thanks"]
    assert settings.texts_for("de-AT")["submit"] == "Anmelden"
    assert settings.texts_for("fr")["title"] == "Join us"
    assert settings.texts_for("not a locale!")["title"] == "Join us"
    settings.set_widget_texts("de-CH", {})
    assert "de-CH" not in settings.widget_texts
    assert settings.texts_for("de-CH")["submit"] == "Anmelden"


@pytest.mark.parametrize(
    "texts",
    [
        {"titel": "typo"},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * (MAX_TEXT_LENGTH + 1)},
        {"title": 42},
    ],
)
def test_bad_texts_are_refused_and_change_nothing(texts: dict[str, object]) -> None:
    settings = fresh()
    settings.set_widget_texts("en", {"title": "Kept"})
    with pytest.raises(InvalidValue):
        settings.set_widget_texts("en", texts)  # type: ignore[arg-type]
    assert settings.widget_texts == {"en": {"title": "Kept"}}


def test_bad_locale_is_refused() -> None:
    with pytest.raises(InvalidValue):
        fresh().set_widget_texts("english please", {"title": "x"})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Shop.Example.com/", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("https://shop.example.com:8443", "https://shop.example.com:8443"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://localhost", "http://localhost"),
    ],
)
def test_origins_are_normalized(given: str, expected: str) -> None:
    assert normalize_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/path",
        "https://shop.example.com?q=1",
        "https://user:pw@shop.example.com",
        "http://shop.example.com",
        "https://shop.example.com:99999",
        "",
    ],
)
def test_bad_origins_are_refused_and_change_nothing(bad: str) -> None:
    settings = fresh()
    settings.set_storefront_origins(["https://kept.example"])
    with pytest.raises(InvalidValue):
        settings.set_storefront_origins(["https://fine.example", bad])
    assert settings.storefront_origins == ("https://kept.example",)


def test_origins_are_deduplicated_and_a_bare_string_is_refused() -> None:
    settings = fresh()
    settings.set_storefront_origins(["https://a.example", "https://A.example/"])
    assert settings.storefront_origins == ("https://a.example",)
    with pytest.raises(InvalidValue):
        settings.set_storefront_origins("https://a.example")
