"""Helpers shared by the benchmark scripts: fresh databases, the shop fixture, tables."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
SHOP_DOMAIN = "bench-shop.myshopify.com"
CLIENT_ID = "bench-client-id"
CLIENT_SECRET = "bench-client-secret-0123456789abcdef"  # a fixture, not a credential


def command_line() -> str:
    """The exact command that is running, for the results header."""
    return " ".join(shlex.quote(part) for part in [Path(sys.executable).name, *sys.argv])


def python() -> str:
    return sys.executable


# -- databases ---------------------------------------------------------------------------


@contextlib.contextmanager
def temporary_postgres_server() -> Iterator[str]:
    """A throwaway local PostgreSQL server (the test suite's helper)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.postgres_server import temporary_postgres

    with temporary_postgres() as url:
        yield url


@contextlib.contextmanager
def fresh_database(db_url: str | None, workdir: Path, name: str) -> Iterator[str]:
    """An empty database: a new SQLite file in `workdir`, or a new database created on the
    PostgreSQL server `db_url` points at (dropped afterwards)."""
    if not db_url or db_url.startswith("sqlite"):
        path = workdir / f"{name}.db"
        yield f"sqlite:///{path}"
        return
    url = sa.make_url(db_url)
    database = f"patronkit_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


def migrate(db_url: str) -> None:
    from patronkit.core.store.database import make_engine
    from patronkit.db import upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class ShopFixture:
    merchant_id: uuid.UUID
    shop_id: uuid.UUID
    encryption_key: str


def create_shop(db_url: str, *, domain: str, api_url: str | None, access_token: str) -> ShopFixture:
    """A merchant with one Shopify ShopConnection, credentials sealed as in production."""
    from patronkit.core.crypto import FernetSealer
    from patronkit.core.domain.merchant import Merchant, ShopConnection
    from patronkit.core.store import database
    from patronkit.core.store.unit_of_work import SqlUnitOfWork

    key = FernetSealer.generate_key()
    sealer = FernetSealer([key])
    engine = database.make_engine(db_url)
    # SqlUnitOfWork takes the engine; older trees took an ORM session factory.
    factory = getattr(database, "make_session_factory", None)
    target = factory(engine) if factory is not None else engine
    try:
        merchant = Merchant(name="Bench Outdoor")
        shop = ShopConnection(
            merchant_id=merchant.id, platform="shopify", domain=domain, api_url=api_url
        )
        shop.store_credentials(sealer, {"access_token": access_token})
        with SqlUnitOfWork(target) as uow:
            uow.merchants.add(merchant)
            uow.tenant(merchant.id).shops.add(shop)
            uow.commit()
        return ShopFixture(merchant.id, shop.id, key)
    finally:
        engine.dispose()


def settings_environ(data_dir: Path, db_url: str, key: str) -> dict[str, str]:
    """PATRONKIT_* variables for the embedded default in `data_dir` (SQLite Huey queue)."""
    return {
        "PATRONKIT_DATA_DIR": str(data_dir),
        "PATRONKIT_DATABASE_URL": db_url,
        "PATRONKIT_ENCRYPTION_KEYS": key,
        "PATRONKIT_SHOPIFY_CLIENT_ID": CLIENT_ID,
        "PATRONKIT_SHOPIFY_CLIENT_SECRET": CLIENT_SECRET,
        "PATRONKIT_SHOPIFY_SCOPES": "read_customers,write_customers,read_orders",
        "PATRONKIT_LOG_LEVEL": "WARNING",
    }


def workdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)


# -- output ------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def peak_rss_mb_self() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def env_without_pythonpath_noise() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env
