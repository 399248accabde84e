"""connect_shop: first install makes a merchant (or joins the one named); re-install
re-activates the same connection; a store never moves between merchants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.errors import NotFound
from patronkit.core.domain.merchant import Merchant, ShopConnection, ShopStatus
from patronkit.core.installs import StoreOfAnotherMerchant, connect_shop
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import Installation

T0 = datetime(2026, 8, 1, tzinfo=UTC)


def installation(token: str = "tok-1", **changes: str | None) -> Installation:
    fields: dict[str, str | None] = {
        "api_url": "http://127.0.0.1:9/",
        "remote_shop_id": "77",
        "name": "Acme Outdoor",
        **changes,
    }
    return Installation("acme.example", {"access_token": token}, **fields)


def connect(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer, inst: Installation, now: datetime
) -> ShopConnection:
    with uow() as work:
        shop = connect_shop(work, "teststore", inst, sealer, now)
        work.commit()
    return shop


def stored(uow: Callable[[], SqlUnitOfWork]) -> ShopConnection:
    with uow() as work:
        shop = work.merchants.shop_by_domain("teststore", "acme.example")
    assert shop is not None
    return shop


def test_first_install_creates_the_merchant_and_a_sealed_connection(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    connect(uow, sealer, installation(), T0)

    shop = stored(uow)
    with uow() as work:
        merchant = work.merchants.get(shop.merchant_id)
        assert [s.id for s in work.tenant(merchant.id).shops.list()] == [shop.id]
    assert merchant.name == "Acme Outdoor"
    assert (shop.status, shop.installed_at) == (ShopStatus.ACTIVE, T0)
    assert (shop.api_url, shop.remote_shop_id) == ("http://127.0.0.1:9/", "77")
    assert shop.sealed_credentials is not None and b"tok-1" not in shop.sealed_credentials
    assert shop.credentials(sealer) == {"access_token": "tok-1"}


def test_a_store_without_a_name_names_the_merchant_after_its_domain(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    connect(uow, sealer, installation(name=None), T0)
    with uow() as work:
        assert work.merchants.get(stored(uow).merchant_id).name == "acme.example"


def test_reinstall_reactivates_the_same_connection_with_new_credentials(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    first = connect(uow, sealer, installation(), T0)
    with uow() as work:
        shop = work.merchants.shop_by_domain("teststore", "acme.example")
        assert shop is not None
        shop.advance_cursor("customers", "c-1")
        shop.mark_uninstalled(T0 + timedelta(days=1))
        work.commit()

    later = T0 + timedelta(days=2)
    connect(uow, sealer, installation("tok-2", name="Renamed"), later)

    shop = stored(uow)
    assert (shop.id, shop.merchant_id) == (first.id, first.merchant_id)
    assert (shop.status, shop.installed_at, shop.uninstalled_at) == (ShopStatus.ACTIVE, later, None)
    assert shop.credentials(sealer) == {"access_token": "tok-2"}
    assert shop.cursors == {"customers": "c-1"}  # sync resumes where it stopped
    with uow() as work:
        assert work.merchants.get(shop.merchant_id).name == "Acme Outdoor"


def test_a_fresh_token_for_an_active_shop_keeps_its_install_time(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    connect(uow, sealer, installation(), T0)
    connect(uow, sealer, installation("tok-2"), T0 + timedelta(hours=1))
    shop = stored(uow)
    assert shop.installed_at == T0
    assert shop.credentials(sealer) == {"access_token": "tok-2"}


def test_nothing_is_written_without_the_callers_commit(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    with uow() as work:
        connect_shop(work, "teststore", installation(), sealer, T0)
    with uow() as work:
        assert work.merchants.shop_by_domain("teststore", "acme.example") is None


def test_a_store_named_for_a_merchant_joins_it_as_its_next_storefront(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    first = connect(uow, sealer, installation(), T0)
    other = Installation("second.example", {"access_token": "tok-9"}, name="Second Store")
    with uow() as work:
        second = connect_shop(work, "teststore", other, sealer, T0, merchant_id=first.merchant_id)
        work.commit()

    assert second.merchant_id == first.merchant_id
    with uow() as work:
        shops = work.tenant(first.merchant_id).shops.list()
        assert sorted(s.domain for s in shops) == ["acme.example", "second.example"]
        assert work.merchants.get(first.merchant_id).name == "Acme Outdoor"  # not renamed


def test_a_store_is_never_moved_to_another_merchant(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    first = connect(uow, sealer, installation(), T0)
    stranger = Merchant(name="Someone Else")
    with uow() as work:
        work.merchants.add(stranger)
        work.commit()

    with uow() as work, pytest.raises(StoreOfAnotherMerchant):
        connect_shop(work, "teststore", installation("tok-2"), sealer, T0, merchant_id=stranger.id)
    shop = stored(uow)
    assert (shop.merchant_id, shop.credentials(sealer)) == (
        first.merchant_id,
        {"access_token": "tok-1"},
    )

    with uow() as work:  # its own merchant may re-install it
        connect_shop(
            work, "teststore", installation("tok-3"), sealer, T0, merchant_id=first.merchant_id
        )
        work.commit()
    assert stored(uow).credentials(sealer) == {"access_token": "tok-3"}


def test_naming_a_merchant_that_does_not_exist_connects_nothing(
    uow: Callable[[], SqlUnitOfWork], sealer: FernetSealer
) -> None:
    with uow() as work, pytest.raises(NotFound):
        connect_shop(work, "teststore", installation(), sealer, T0, merchant_id=uuid4())
