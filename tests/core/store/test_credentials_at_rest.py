"""The raw credentials column holds ciphertext only, and keys rotate."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.store import tables
from patronkit.core.store.unit_of_work import SqlUnitOfWork

TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def test_raw_row_holds_no_plaintext(
    uow: Callable[[], SqlUnitOfWork], engine: sa.Engine, merchant: Merchant, sealer: FernetSealer
) -> None:
    shop = ShopConnection(merchant_id=merchant.id, platform="teststore", domain="sealed.example")
    shop.store_credentials(sealer, {"access_token": TOKEN, "client_secret": "s3cr3t-value"})
    with uow() as work:
        work.tenant(merchant.id).shops.add(shop)
        work.commit()

    with engine.connect() as connection:
        row = connection.execute(
            sa.select(tables.shop_connections).where(tables.shop_connections.c.id == shop.id)
        ).one()
    raw = bytes(row.sealed_credentials)
    assert raw and TOKEN.encode() not in raw and b"s3cr3t-value" not in raw
    assert b"access_token" not in raw
    for value in row:  # no other column carries it either
        assert TOKEN not in str(value)
    assert sealer.open(raw).decode().count(TOKEN) == 1


def test_keys_rotate_without_losing_stored_values() -> None:
    old_key, new_key = FernetSealer.generate_key(), FernetSealer.generate_key()
    sealed_under_old = FernetSealer([old_key]).seal(b"token")
    # During rotation both keys are configured, the new one first.
    rotating = FernetSealer([new_key, old_key])
    assert rotating.open(sealed_under_old) == b"token"
    resealed = rotating.rotate(sealed_under_old)
    assert FernetSealer([new_key]).open(resealed) == b"token"
