"""The `patronkit` command line: one group, commands in the modules beside this one."""

from __future__ import annotations

import importlib
from typing import ClassVar

import click

from patronkit.cli import customers, database, demo, running, syncing


@click.group()
@click.version_option(package_name="patronkit")
def main() -> None:
    """patronkit: consent, referrals and reviews, synced across your storefronts."""


class _Simulators(click.Group):
    """Simulator commands, imported only when asked for (not by `serve` or `worker`)."""

    COMMANDS: ClassVar[dict[str, str]] = {
        "shopify": "patronkit.adapters.shopify.simulator.cli:shopify",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, name = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


@main.group(cls=_Simulators)
def simulate() -> None:
    """Simulated storefronts for demos, tests and benchmarks."""


def _register() -> None:
    main.add_command(database.db)
    main.add_command(running.serve)
    main.add_command(running.worker)
    main.add_command(syncing.import_shop)
    main.add_command(syncing.reconcile)
    main.add_command(customers.customers)
    main.add_command(demo.demo)


_register()
