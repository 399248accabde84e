"""Every scenario runs once per platform, against that platform's simulator, on a store
connected through its real install flow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.connected import CUSTOMERS, ORDERS, Connected, connected_store
from tests.conformance.platforms import HARNESSES


@pytest.fixture(params=sorted(HARNESSES))
def platform(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store(
    platform: str, database_url: str, tmp_path: Path, clean_db: object
) -> Iterator[Connected]:
    """Installed, nothing imported yet."""
    with connected_store(
        platform, database_url, tmp_path, customers=CUSTOMERS, orders=ORDERS
    ) as connected:
        yield connected


@pytest.fixture
def imported(store: Connected) -> Connected:
    """Installed and imported, everything settled."""
    store.sync(full=True)
    store.settle()
    return store
