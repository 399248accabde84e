"""customers show: what a support agent needs to answer "why did (didn't) I get that email?"."""

from __future__ import annotations

import json

import click

from patronkit.cli.common import load_settings, migrated_runtime
from patronkit.core.reports import customer_report


@click.group()
def customers() -> None:
    """Look up customers."""


@customers.command()
@click.argument("email")
@click.option("--shop", "shop_domain", help="A shop domain of the merchant to look in.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(email: str, shop_domain: str | None, as_json: bool) -> None:
    """Consent per channel with its evidence, the history, and store links of EMAIL."""
    runtime = migrated_runtime(load_settings())
    reports = []
    with runtime.unit_of_work(read_only=True) as uow:
        shops = uow.merchants.active_shops()
        if shop_domain:
            shops = [s for s in shops if s.domain == shop_domain.lower()]
            if not shops:
                raise click.ClickException(f"no connected shop {shop_domain!r}")
        for merchant_id in dict.fromkeys(shop.merchant_id for shop in shops):
            tenant = uow.tenant(merchant_id)
            customer = tenant.customers.by_email(email)
            if customer is not None:
                report = customer_report(customer, tenant.shops.list())
                reports.append({"merchant_id": str(merchant_id), **report})
    if not reports:
        raise click.ClickException(f"no customer with email {email!r}")
    if as_json:
        click.echo(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
        return
    for report in reports:
        _print(report)


def _print(report: dict[str, object]) -> None:
    click.echo(
        f"{report['email']}  phone {report['phone'] or '-'}  (merchant {report['merchant_id']})"
    )
    consent = report["consent"]
    assert isinstance(consent, dict)
    for channel, status in consent.items():
        evidence = status["decided_by"]
        click.echo(
            f"  {channel:<8} {status['state']:<15} {status['opt_in_level']:<10}"
            f" since {status['since']}  via {evidence['source']} {evidence['store'] or ''}"
        )
    stores = report["stores"]
    assert isinstance(stores, list)
    for store in stores:
        click.echo(f"  in {store['platform']}:{store['domain']} as {store['remote_id']}")
