"""The `patronkit` command line: one group, commands in the modules beside this one."""

from __future__ import annotations

import importlib

import click

from patronkit.adapters.registry import PLATFORMS
from patronkit.cli import customers, database, demo, running, syncing


@click.group()
@click.version_option(package_name="patronkit")
def main() -> None:
    """patronkit: consent, referrals and reviews, synced across your storefronts."""


class _Simulators(click.Group):
    """One `simulate PLATFORM` command per registered platform, imported only when asked for
    (not by `serve` or `worker`). Each platform folder brings its simulator, whose command is
    `command` in `patronkit.adapters.<platform>.simulator.cli`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(PLATFORMS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in PLATFORMS:
            return None
        module = importlib.import_module(f"patronkit.adapters.{cmd_name}.simulator.cli")
        command: click.Command = module.command
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
