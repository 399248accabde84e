"""The whole schema and its Alembic migrations, run from code (no alembic.ini).

The schema spans layers: core's tables and sync's inbox/outbox share one MetaData, so one
migration history covers both. This module sits outside core so it may import sync.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def schema_metadata() -> sa.MetaData:
    """Core's MetaData with every outer layer's tables registered on it."""
    import patronkit.sync.tables  # noqa: F401 - registers the inbox and outbox tables
    from patronkit.core.store.tables import metadata

    return metadata


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
