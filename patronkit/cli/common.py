"""What every command needs: settings, logging, a migrated database and the runtime."""

from __future__ import annotations

import logging

import click

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import ConfigError, Settings


def load_settings() -> Settings:
    try:
        settings = Settings.load()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def migrated_runtime(settings: Settings) -> Runtime:
    """The runtime, after bringing the schema to the newest migration."""
    from patronkit.db import upgrade

    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    return runtime
