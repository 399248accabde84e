"""Use case: connect a store to patronkit once its platform has approved the install.

Platform-free: the web layer obtains an `Installation` through the storefront port and calls
`connect_shop` inside its own unit of work; like the other use cases it does not commit.

A merchant with several storefronts connects each to the same Merchant: the web layer passes
the merchant an authenticated admin asked to add the store to (see webapp/install.py, "link
to merchant"). Without one, a first install starts a new merchant.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from patronkit.core.domain.errors import DomainError
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.sealing import Sealer
from patronkit.core.ports import UnitOfWork
from patronkit.core.storefront import Installation

_MAX_NAME = 255  # Merchant.name's limit


class StoreOfAnotherMerchant(DomainError):
    """The store is already connected to a different merchant than the one named; an install
    never moves a store (and its customers' data) from one merchant to another."""


def connect_shop(
    uow: UnitOfWork,
    platform: str,
    installation: Installation,
    sealer: Sealer,
    now: datetime,
    *,
    merchant_id: UUID | None = None,
) -> ShopConnection:
    """The store's connection, with the installation's credentials sealed into it.

    First install: a new Merchant (named after the store) and its connection, or with
    `merchant_id` a connection of that existing merchant (its next storefront). Re-install
    (of an uninstalled store, or a fresh token for an active one): the same connection and
    merchant, re-activated, with the credentials replaced — so customers, consents and sync
    cursors gathered before are kept; a `merchant_id` must then be that merchant's, or
    StoreOfAnotherMerchant is raised.
    """
    shop = uow.merchants.shop_by_domain(platform, installation.domain)
    if shop is None:
        shop = _new_connection(uow, platform, installation, now, merchant_id)
    elif merchant_id is not None and shop.merchant_id != merchant_id:
        raise StoreOfAnotherMerchant(f"this {platform} store is connected to another merchant")
    elif not shop.active:
        shop.mark_installed(now)
    if installation.api_url:
        shop.api_url = installation.api_url
    if installation.remote_shop_id:
        shop.remote_shop_id = installation.remote_shop_id
    shop.store_credentials(sealer, dict(installation.credentials))
    return shop


def _new_connection(
    uow: UnitOfWork,
    platform: str,
    installation: Installation,
    now: datetime,
    merchant_id: UUID | None,
) -> ShopConnection:
    if merchant_id is not None:
        merchant = uow.merchants.get(merchant_id)  # NotFound if it is gone meanwhile
    else:
        name = (installation.name or "").strip() or installation.domain
        merchant = Merchant(name=name[:_MAX_NAME], created_at=now)
        uow.merchants.add(merchant)
    shop = ShopConnection(
        merchant_id=merchant.id,
        platform=platform,
        domain=installation.domain,
        installed_at=now,
    )
    uow.tenant(merchant.id).shops.add(shop)
    return shop
