"""The SQLAlchemy unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker

from patronkit.core import ports
from patronkit.core.domain.customer import Customer
from patronkit.core.store import repositories as repos
from patronkit.core.store.database import READ_ONLY


class SqlUnitOfWork(ports.UnitOfWork):
    """`read_only=True` is for work that never commits (pages, reports): on SQLite it reads
    alongside a writer instead of queueing for the write lock."""

    def __init__(self, session_factory: sessionmaker[Session], *, read_only: bool = False) -> None:
        self._session_factory = session_factory
        self._read_only = read_only

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        if self._read_only:
            self.session.connection(execution_options={READ_ONLY: True})
        self.merchants = repos.SqlMerchantDirectory(self.session)
        self._tenants: dict[UUID, ports.Tenant] = {}
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted in the database but, unlike rollback(),
        # leaves loaded objects readable: a shop read in a read-only unit of work stays usable.
        self.session.close()

    def tenant(self, merchant_id: UUID) -> ports.Tenant:
        if merchant_id not in self._tenants:
            s = self.session
            self._tenants[merchant_id] = ports.Tenant(
                merchant_id=merchant_id,
                shops=repos.SqlShopRepository(s, merchant_id),
                customers=repos.SqlCustomerRepository(s, merchant_id),
                wordings=repos.SqlWordingRepository(s, merchant_id),
                referral_codes=repos.SqlReferralCodeRepository(s, merchant_id),
                orders=repos.SqlOrderRepository(s, merchant_id),
                audit=repos.SqlAuditRepository(s, merchant_id),
            )
        return self._tenants[merchant_id]

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def _seen_customers(self) -> Iterator[Customer]:
        for tenant in self._tenants.values():
            yield from tenant.customers.seen
