from __future__ import annotations

import click

from patronkit.cli.common import load_settings


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply Alembic migrations up to REVISION."""
    from patronkit.core.store.database import make_engine
    from patronkit.db import upgrade as run_upgrade

    settings = load_settings()
    engine = make_engine(settings.database_url)
    run_upgrade(engine, revision)
    engine.dispose()
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")
