from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from patronkit.core.crypto import FernetSealer, SealError
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.merchant import Merchant, ShopConnection, ShopStatus


def test_credentials_are_held_sealed() -> None:
    sealer = FernetSealer([FernetSealer.generate_key()])
    shop = ShopConnection(merchant_id=uuid4(), platform="teststore", domain="Shop.Example/")
    shop.store_credentials(sealer, {"access_token": "shpat_secret"})
    assert shop.domain == "shop.example"
    assert shop.sealed_credentials is not None and b"shpat_secret" not in shop.sealed_credentials
    assert shop.credentials(sealer) == {"access_token": "shpat_secret"}
    with pytest.raises(SealError):
        shop.credentials(FernetSealer([FernetSealer.generate_key()]))


def test_uninstall_forgets_credentials() -> None:
    sealer = FernetSealer([FernetSealer.generate_key()])
    shop = ShopConnection(merchant_id=uuid4(), platform="teststore", domain="shop.example")
    shop.store_credentials(sealer, {"access_token": "t"})
    shop.mark_uninstalled(datetime(2026, 1, 1, tzinfo=UTC))
    assert shop.status is ShopStatus.UNINSTALLED and shop.sealed_credentials is None
    with pytest.raises(InvalidValue):
        shop.credentials(sealer)


def test_cursor_advance_replaces_the_mapping() -> None:
    shop = ShopConnection(merchant_id=uuid4(), platform="teststore", domain="shop.example")
    before = shop.cursors
    shop.advance_cursor("customers", "2026-01-01T00:00:00Z")
    assert shop.cursors == {"customers": "2026-01-01T00:00:00Z"} and before == {}


@pytest.mark.parametrize("platform", ["", "Shop Ify", "x" * 80])
def test_platform_keys_are_slugs(platform: str) -> None:
    with pytest.raises(InvalidValue):
        ShopConnection(merchant_id=uuid4(), platform=platform, domain="shop.example")


def test_merchant_needs_a_name() -> None:
    with pytest.raises(InvalidValue):
        Merchant(name="  ")
