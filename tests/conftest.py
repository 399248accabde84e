"""Shared fixtures. The whole suite runs on SQLite (default) or PostgreSQL (`--db postgres`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from patronkit.config import Settings
from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.store import tables
from patronkit.core.store.database import make_engine
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.db import upgrade
from tests.postgres_server import temporary_postgres


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("PATRONKIT_TEST_DB", "sqlite"),
        help="database backend for the suite (env PATRONKIT_TEST_DB)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"patronkit database backend: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.config.getoption("--db") == "postgres":
        external = os.environ.get("PATRONKIT_TEST_POSTGRES_URL")
        if external:
            yield external
            return
        with temporary_postgres() as url:
            yield url
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'patronkit.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The schema is built by the real migrations, so every test also exercises them."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: sa.Engine) -> Iterator[sa.Engine]:
    """The migrated database, emptied after the test."""
    yield engine
    with engine.begin() as connection:
        for table in reversed(tables.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def uow(clean_db: sa.Engine) -> Callable[[], SqlUnitOfWork]:
    """A factory: each call is a fresh unit of work (a fresh transaction), as in production."""
    return lambda: SqlUnitOfWork(clean_db)


@pytest.fixture
def sealer() -> FernetSealer:
    return FernetSealer([FernetSealer.generate_key()])


@pytest.fixture
def merchant(uow: Callable[[], SqlUnitOfWork]) -> Merchant:
    merchant = Merchant(name="Acme Outdoor")
    with uow() as work:
        work.merchants.add(merchant)
        work.commit()
    return merchant


@pytest.fixture
def shop(uow: Callable[[], SqlUnitOfWork], merchant: Merchant) -> ShopConnection:
    shop = ShopConnection(merchant_id=merchant.id, platform="teststore", domain="acme.example")
    with uow() as work:
        work.tenant(merchant.id).shops.add(shop)
        work.commit()
    return shop


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.load(
        {
            "PATRONKIT_DATA_DIR": str(tmp_path / "data"),
            "PATRONKIT_DATABASE_URL": database_url,
        }
    )
