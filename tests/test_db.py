"""The migrations build exactly the schema the code declares."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from patronkit.db import schema_metadata


def test_migrated_schema_matches_the_tables(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, schema_metadata())
    assert differences == []


def test_upgrade_is_at_head(engine: sa.Engine) -> None:
    from alembic.script import ScriptDirectory

    from patronkit.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
