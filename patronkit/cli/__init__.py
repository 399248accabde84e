"""The `patronkit` command line: one group, commands in the modules beside this one."""

from __future__ import annotations

import click

from patronkit.cli import customers, database, running, syncing


@click.group()
@click.version_option(package_name="patronkit")
def main() -> None:
    """patronkit: consent, referrals and reviews, synced across your storefronts."""


@main.group()
def simulate() -> None:
    """Simulated storefronts for demos, tests and benchmarks."""


def _register() -> None:
    from patronkit.adapters.shopify.simulator.cli import shopify

    main.add_command(database.db)
    main.add_command(running.serve)
    main.add_command(running.worker)
    main.add_command(syncing.import_shop)
    main.add_command(syncing.reconcile)
    main.add_command(customers.customers)
    simulate.add_command(shopify)


_register()
