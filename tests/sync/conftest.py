from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.sync.engine import InlineDispatcher, SyncEngine
from tests.redis_server import flush, temporary_redis
from tests.sync.fakes import SECRET, FakeGateway


@dataclass
class World:
    engine: SyncEngine
    gateway: FakeGateway
    dispatcher: InlineDispatcher
    merchant: Merchant
    shop_a: ShopConnection
    shop_b: ShopConnection
    uow: Callable[[], SqlUnitOfWork]


@pytest.fixture
def world(clean_db: sa.Engine, sealer: FernetSealer, uow: Callable[[], SqlUnitOfWork]) -> World:
    """One merchant with two connected stores of the fake platform, sync running inline."""
    gateway = FakeGateway()
    dispatcher = InlineDispatcher()
    engine = SyncEngine(clean_db, sealer, {"teststore": gateway}, dispatcher, group_commit=False)
    dispatcher.engine = engine
    merchant = Merchant(name="Two Stores")
    shops = [
        ShopConnection(merchant_id=merchant.id, platform="teststore", domain=domain)
        for domain in ("a.example", "b.example")
    ]
    with uow() as work:
        work.merchants.add(merchant)
        for shop in shops:
            shop.store_credentials(sealer, {"webhook_secret": SECRET})
            work.tenant(merchant.id).shops.add(shop)
        work.commit()
    return World(engine, gateway, dispatcher, merchant, shops[0], shops[1], uow)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private Redis for the queue tests (started once per run)."""
    with temporary_redis() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The job queue, on each storage the product supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    url: str = request.getfixturevalue("redis_url")
    flush(url)
    return url
