"""The `patronkit` command line."""

from __future__ import annotations

import logging

import click

from patronkit.config import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@click.group()
@click.version_option(package_name="patronkit")
def main() -> None:
    """patronkit: consent, referrals and reviews, synced across your storefronts."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations up to REVISION."""
    from patronkit.core.store.database import make_engine
    from patronkit.db import upgrade

    settings = _settings()
    _configure_logging(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine, revision)
    engine.dispose()
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")


@main.command()
@click.option("--host", default=None, help="Interface to bind (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from settings: 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the web app on the embedded default (migrations are applied first)."""
    import waitress

    from patronkit.core.store.database import make_engine
    from patronkit.db import upgrade
    from patronkit.webapp import create_app

    settings = _settings()
    _configure_logging(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    host = host or settings.host
    port = port or settings.port
    click.echo(f"patronkit listening on http://{host}:{port} (health: /health)")
    waitress.serve(app, host=host, port=port, threads=8, ident="patronkit")


@main.group()
def simulate() -> None:
    """Simulated storefronts for demos, tests and benchmarks."""


def _register_simulators() -> None:
    from patronkit.adapters.shopify.simulator.cli import shopify

    simulate.add_command(shopify)


_register_simulators()
