"""Merchant settings survive a round trip, default when never saved, and stay per merchant."""

from __future__ import annotations

from collections.abc import Callable

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.merchant import Merchant
from patronkit.core.domain.settings import MerchantSettings
from patronkit.core.store.unit_of_work import SqlUnitOfWork

Uow = Callable[[], SqlUnitOfWork]


def test_defaults_until_saved_and_nothing_written_by_reading(uow: Uow, merchant: Merchant) -> None:
    with uow() as work:
        settings = work.tenant(merchant.id).settings.get()
        assert settings.merchant_id == merchant.id
        assert settings.double_opt_in_for(Channel.EMAIL)
        work.commit()
    with uow() as work:
        again = work.tenant(merchant.id).settings.get()
        assert again.id != settings.id  # a fresh default: the first one was never saved


def test_round_trip_and_update(uow: Uow, merchant: Merchant) -> None:
    with uow() as work:
        settings = work.tenant(merchant.id).settings.get()
        settings.set_double_opt_in(Channel.SMS, True)
        settings.set_widget_texts("de-CH", {"title": "Grüezi", "submit": "Abonnieren"})
        settings.set_storefront_origins(["https://shop.example.com", "http://127.0.0.1:9000"])
        work.tenant(merchant.id).settings.save(settings)
        work.commit()
    with uow() as work:
        loaded = work.tenant(merchant.id).settings.get()
        assert loaded.id == settings.id
        assert loaded.double_opt_in == settings.double_opt_in
        assert all(isinstance(channel, Channel) for channel in loaded.double_opt_in)
        assert loaded.widget_texts == {"de-CH": {"title": "Grüezi", "submit": "Abonnieren"}}
        assert loaded.storefront_origins == ("https://shop.example.com", "http://127.0.0.1:9000")
        assert loaded.updated_at == settings.updated_at
        loaded.set_double_opt_in(Channel.EMAIL, False)
        loaded.set_storefront_origins([])
        work.commit()  # a loaded object is tracked: commit writes its changes
    with uow() as work:
        loaded = work.tenant(merchant.id).settings.get()
        assert not loaded.double_opt_in_for(Channel.EMAIL)
        assert loaded.storefront_origins == ()


def test_saving_a_second_object_keeps_one_row_per_merchant(uow: Uow, merchant: Merchant) -> None:
    with uow() as work:
        work.tenant(merchant.id).settings.save(MerchantSettings(merchant_id=merchant.id))
        work.commit()
    replacement = MerchantSettings(merchant_id=merchant.id)
    replacement.set_widget_texts("en", {"title": "New"})
    with uow() as work:
        work.tenant(merchant.id).settings.save(replacement)
        work.commit()
    with uow() as work:
        assert work.tenant(merchant.id).settings.get().texts_for("en")["title"] == "New"


def test_settings_are_scoped_to_their_merchant(uow: Uow, merchant: Merchant) -> None:
    other = Merchant(name="Other Co")
    with uow() as work:
        work.merchants.add(other)
        mine = work.tenant(merchant.id).settings.get()
        mine.set_storefront_origins(["https://mine.example"])
        work.tenant(merchant.id).settings.save(mine)
        work.commit()
    with uow() as work:
        assert work.tenant(other.id).settings.get().storefront_origins == ()
        assert work.tenant(merchant.id).settings.get().storefront_origins == (
            "https://mine.example",
        )


def test_saving_another_merchants_settings_is_refused(uow: Uow, merchant: Merchant) -> None:
    import pytest

    from patronkit.core.domain.errors import ScopeViolation

    with uow() as work, pytest.raises(ScopeViolation):
        work.tenant(merchant.id).settings.save(MerchantSettings(merchant_id=Merchant("X").id))
