"""`patronkit simulate woocommerce`: run one simulated store until interrupted."""

from __future__ import annotations

import click

from .config import SimulatorConfig
from .server import WooCommerceSimulator


@click.command("woocommerce")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8766, show_default=True, type=int, help="0 picks a free port.")
@click.option("--customers", default=50, show_default=True, type=int, help="Customers to seed.")
@click.option("--orders", default=0, show_default=True, type=int, help="Orders to seed.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed for sample data.")
@click.option("--timezone", default="Europe/Berlin", show_default=True, help="Site timezone.")
@click.option("--currency", default="EUR", show_default=True)
@click.option(
    "--allow-http-callback",
    is_flag=True,
    help="Let the key exchange post keys to an http:// callback_url (loopback demos).",
)
@click.option("--auto-approve", is_flag=True, help="Approve key requests without the page.")
@click.option(
    "--assume-https",
    is_flag=True,
    help="Act as if behind TLS: accept Basic auth and query-string keys.",
)
def command(
    *,
    host: str,
    port: int,
    customers: int,
    orders: int,
    seed: int,
    timezone: str,
    currency: str,
    allow_http_callback: bool,
    auto_approve: bool,
    assume_https: bool,
) -> None:
    """Simulate a WooCommerce store (REST API wc/v3, key exchange, webhooks) on HOST:PORT."""
    config = SimulatorConfig(
        customers=customers,
        orders=orders,
        seed=seed,
        timezone=timezone,
        currency=currency,
        callback_requires_https=not allow_http_callback,
        auto_approve=auto_approve,
        assume_https=assume_https,
    )
    simulator = WooCommerceSimulator(config, host=host, port=port)
    simulator.bind()
    click.echo(
        f"Simulating a WooCommerce store with {customers} customers on {simulator.url} "
        "(REST: /wp-json/wc/v3, key exchange: /wc-auth/v1/authorize, control: /_simulator/, "
        "API keys: POST /_simulator/api-keys); Ctrl+C stops."
    )
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
