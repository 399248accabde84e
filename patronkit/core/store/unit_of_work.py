"""The unit of work: one connection, one transaction, an identity map, explicit commit."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Self
from uuid import UUID

import sqlalchemy as sa

from patronkit.core import ports
from patronkit.core.domain.customer import Customer
from patronkit.core.store import mappers as m
from patronkit.core.store import repositories as repos
from patronkit.core.store.database import READ_ONLY
from patronkit.core.store.tracking import IdentityMap


class SqlUnitOfWork(ports.UnitOfWork):
    """`read_only=True` is for work that never commits (pages, reports): on SQLite it reads
    alongside a writer instead of queueing for the write lock."""

    def __init__(self, engine: sa.Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        if self._read_only:
            connection = connection.execution_options(**{READ_ONLY: True})
        # No explicit begin: the connection begins on first use, so a unit of work that reads
        # nothing holds no lock (on SQLite, BEGIN IMMEDIATE takes the write lock).
        self.connection = connection
        self.identity = IdentityMap()
        self.merchants = repos.SqlMerchantDirectory(connection, self.identity)
        self._tenants: dict[UUID, ports.Tenant] = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing rolls back whatever was not committed; loaded objects stay readable.
        self.connection.close()

    def tenant(self, merchant_id: UUID) -> ports.Tenant:
        if merchant_id not in self._tenants:
            c, i = self.connection, self.identity
            self._tenants[merchant_id] = ports.Tenant(
                merchant_id=merchant_id,
                shops=repos.SqlShopRepository(c, i, merchant_id),
                customers=repos.SqlCustomerRepository(c, i, merchant_id),
                wordings=repos.SqlWordingRepository(c, i, merchant_id),
                referral_codes=repos.SqlReferralCodeRepository(c, i, merchant_id),
                orders=repos.SqlOrderRepository(c, i, merchant_id),
                audit=repos.SqlAuditRepository(c, i, merchant_id),
                settings=repos.SqlSettingsRepository(c, i, merchant_id),
            )
        return self._tenants[merchant_id]

    def flush(self) -> None:
        """Write what changed so far, inside the transaction (commit does this too)."""
        self.identity.flush(self.connection)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.flush()
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()
        self.identity = IdentityMap()

    def refresh_statistics(self) -> None:
        # PostgreSQL plans from table statistics; a table that grew from empty during an
        # import still looks empty and gets sequential scans for every batch lookup.
        if self.connection.dialect.name == "postgresql":
            tables = "customers, store_links, consent_events, orders"
            self.connection.exec_driver_sql(f"ANALYZE {tables}")

    def _seen_customers(self) -> Iterator[Customer]:
        yield from self.identity.all(m.CUSTOMERS)
