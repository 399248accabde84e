"""import and reconcile: read stores through their APIs and apply what they hold."""

from __future__ import annotations

import click
from tqdm import tqdm

from patronkit.bootstrap import Runtime
from patronkit.cli.common import load_settings, migrated_runtime
from patronkit.core.domain.merchant import ShopConnection
from patronkit.sync.importer import sync_shop


def _find_shop(runtime: Runtime, domain: str) -> ShopConnection:
    with runtime.unit_of_work(read_only=True) as uow:
        for platform in runtime.gateways:
            shop = uow.merchants.shop_by_domain(platform, domain)
            if shop is not None:
                return shop
    raise click.ClickException(f"no connected shop {domain!r} (is its platform configured?)")


def _run(runtime: Runtime, shop: ShopConnection, *, full: bool) -> None:
    with tqdm(desc=shop.domain, unit=" customers", disable=None) as bar:
        stats = sync_shop(runtime.sync, shop.merchant_id, shop.id, full=full, progress=bar.update)
    click.echo(
        f"{shop.domain}: {stats.customers} customers, {stats.orders} orders applied; "
        f"{stats.pushes} pushes queued; {stats.dropped_fields} unusable fields dropped"
    )


@click.command("import")
@click.argument("shop_domain")
def import_shop(shop_domain: str) -> None:
    """Import every customer and order of a connected shop."""
    runtime = migrated_runtime(load_settings())
    _run(runtime, _find_shop(runtime, shop_domain), full=True)


@click.command()
@click.argument("shop_domain", required=False)
def reconcile(shop_domain: str | None) -> None:
    """Apply what changed since the last run, for one shop or every active one."""
    runtime = migrated_runtime(load_settings())
    if shop_domain:
        shops = [_find_shop(runtime, shop_domain)]
    else:
        with runtime.unit_of_work(read_only=True) as uow:
            shops = uow.merchants.active_shops()
    for shop in shops:
        if shop.platform in runtime.gateways:
            _run(runtime, shop, full=False)
