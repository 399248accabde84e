"""`patronkit simulate shopify`: run one simulated shop until interrupted."""

from __future__ import annotations

import click

from .server import ShopifySimulator
from .shop import SimulatorConfig
from .throttle import THROTTLE_PRESETS


@click.command("shopify")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option("--customers", default=50, show_default=True, type=int, help="Customers to seed.")
@click.option("--orders", default=0, show_default=True, type=int, help="Orders to seed.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for sample data.")
@click.option("--shop", "shop_domain", default="sim-shop.myshopify.com", show_default=True)
@click.option("--client-id", default="sim-client-id", show_default=True)
@click.option("--client-secret", default="sim-client-secret-0123456789abcdef", show_default=True)
@click.option(
    "--throttle",
    type=click.Choice(sorted(THROTTLE_PRESETS)),
    default="standard",
    show_default=True,
    help="Rate-limit bucket preset.",
)
@click.option("--compliance-url", default=None, help="Where compliance webhooks go.")
def command(
    *,
    host: str,
    port: int,
    customers: int,
    orders: int,
    seed: int,
    shop_domain: str,
    client_id: str,
    client_secret: str,
    throttle: str,
    compliance_url: str | None,
) -> None:
    """Simulate a Shopify shop (Admin GraphQL API, OAuth, webhooks) on HOST:PORT."""
    config = SimulatorConfig(
        shop_domain=shop_domain,
        client_id=client_id,
        client_secret=client_secret,
        customers=customers,
        orders=orders,
        seed=seed,
        throttle=throttle,
        compliance_webhook_url=compliance_url,
    )
    simulator = ShopifySimulator(config, host=host, port=port)
    simulator.bind()
    click.echo(
        f"Simulating {shop_domain} with {customers} customers on {simulator.url} "
        "(GraphQL: /admin/api/<version>/graphql.json, control: /_simulator/); Ctrl+C stops."
    )
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
