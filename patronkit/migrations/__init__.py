"""Alembic migrations, run with `patronkit db upgrade`."""
