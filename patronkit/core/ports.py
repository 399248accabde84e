"""Ports: what the service layer needs from storage, as abstract classes.

Every repository but the merchant directory is bound to one merchant when it is made, and
filters every query by it: there is no call that can reach another merchant's rows.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.customer import Customer, CustomerMerge, DuplicateFlag
from patronkit.core.domain.errors import NotFound, ScopeViolation
from patronkit.core.domain.events import DomainEvent
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.privacy import PrivacyRequest
from patronkit.core.domain.referral import ReferralCode
from patronkit.core.domain.settings import MerchantSettings
from patronkit.core.domain.wording import ConsentWording


class MerchantDirectory(abc.ABC):
    """The only unscoped port: find a tenant, or the shop a webhook came from."""

    @abc.abstractmethod
    def add(self, merchant: Merchant) -> None: ...

    @abc.abstractmethod
    def find(self, merchant_id: UUID) -> Merchant | None: ...

    def get(self, merchant_id: UUID) -> Merchant:
        merchant = self.find(merchant_id)
        if merchant is None:
            raise NotFound("no such merchant")
        return merchant

    @abc.abstractmethod
    def shop_by_domain(self, platform: str, domain: str) -> ShopConnection | None:
        """The connection for a store, whichever merchant owns it (for routing inbound calls)."""

    @abc.abstractmethod
    def active_shops(self) -> list[ShopConnection]:
        """Every active connection of every merchant (for scheduled reconciles)."""


class ScopedRepository(abc.ABC):  # noqa: B024 - shared base of the abstract repositories
    def __init__(self, merchant_id: UUID) -> None:
        self.merchant_id = merchant_id

    def _check(self, owner: UUID) -> None:
        if owner != self.merchant_id:
            raise ScopeViolation("that object belongs to another merchant")


class ShopRepository(ScopedRepository):
    @abc.abstractmethod
    def add(self, shop: ShopConnection) -> None: ...

    @abc.abstractmethod
    def find(self, shop_id: UUID) -> ShopConnection | None: ...

    @abc.abstractmethod
    def list(self) -> list[ShopConnection]: ...

    def get(self, shop_id: UUID) -> ShopConnection:
        shop = self.find(shop_id)
        if shop is None:
            raise NotFound("no such shop connection")
        return shop


class CustomerRepository(ScopedRepository):
    def add(self, customer: Customer) -> None:
        self._check(customer.merchant_id)
        self._add(customer)

    def find(self, customer_id: UUID) -> Customer | None:
        return self._find(customer_id)

    def get(self, customer_id: UUID) -> Customer:
        customer = self.find(customer_id)
        if customer is None:
            raise NotFound("no such customer")
        return customer

    def by_email(self, email: str) -> Customer | None:
        return self._by_email(email)

    def by_link(self, shop_id: UUID, remote_id: str) -> Customer | None:
        return self._by_link(shop_id, remote_id)

    def search(self, text: str, limit: int = 50, offset: int = 0) -> list[Customer]:
        return list(self._search(text, limit, offset))

    def likely_duplicates_of(self, customer: Customer) -> list[Customer]:
        self._check(customer.merchant_id)
        return list(self._likely_duplicates_of(customer))

    @abc.abstractmethod
    def by_links(self, shop_id: UUID, remote_ids: Sequence[str]) -> dict[str, Customer]:
        """Many customers by their ids in one store: {remote id: customer} for those found."""

    @abc.abstractmethod
    def forget_in_store(self, shop_id: UUID, remote_id: str, at: datetime) -> None:
        """Remember that a store deleted its record `remote_id`: stores do not reuse ids, so a
        report of it arriving later (late or out of order) is stale."""

    @abc.abstractmethod
    def deleted_in_store(self, shop_id: UUID, remote_ids: Sequence[str]) -> set[str]:
        """Of these ids in one store, those it deleted."""

    @abc.abstractmethod
    def by_emails(self, emails: Sequence[str]) -> dict[str, Customer]:
        """Many customers by email: {normalized email: customer} for those found."""

    @abc.abstractmethod
    def likely_duplicates_among(self, customers: Sequence[Customer]) -> dict[UUID, list[Customer]]:
        """For each customer, the others that are probably the same person."""

    @abc.abstractmethod
    def _add(self, customer: Customer) -> None: ...

    @abc.abstractmethod
    def _find(self, customer_id: UUID) -> Customer | None: ...

    @abc.abstractmethod
    def _by_email(self, email: str) -> Customer | None: ...

    @abc.abstractmethod
    def _by_link(self, shop_id: UUID, remote_id: str) -> Customer | None: ...

    @abc.abstractmethod
    def _search(self, text: str, limit: int, offset: int) -> Sequence[Customer]: ...

    @abc.abstractmethod
    def _likely_duplicates_of(self, customer: Customer) -> Sequence[Customer]: ...

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def linked_in(self, shop_id: UUID) -> list[Customer]:
        """Every customer with a record in one store."""


class WordingRepository(ScopedRepository):
    @abc.abstractmethod
    def add(self, wording: ConsentWording) -> None: ...

    @abc.abstractmethod
    def find(self, wording_id: UUID) -> ConsentWording | None: ...

    @abc.abstractmethod
    def latest(self, channel: Channel, purpose: str, locale: str) -> ConsentWording | None: ...

    @abc.abstractmethod
    def list(self) -> list[ConsentWording]: ...


class ReferralCodeRepository(ScopedRepository):
    @abc.abstractmethod
    def add(self, code: ReferralCode) -> None: ...

    @abc.abstractmethod
    def by_code(self, code: str) -> ReferralCode | None: ...

    @abc.abstractmethod
    def for_customer(self, customer_id: UUID) -> ReferralCode | None: ...


class OrderRepository(ScopedRepository):
    @abc.abstractmethod
    def add(self, order: OrderSummary) -> None: ...

    @abc.abstractmethod
    def by_remote_id(self, shop_id: UUID, remote_id: str) -> OrderSummary | None: ...

    @abc.abstractmethod
    def for_customer(self, customer_id: UUID) -> list[OrderSummary]: ...

    @abc.abstractmethod
    def attach_waiting(self, shop_id: UUID, buyers: Mapping[str, UUID]) -> int:
        """Give orders that arrived before their buyers to them ({store's customer id: our
        customer id}); returns how many."""

    @abc.abstractmethod
    def delete_for_shop(self, shop_id: UUID) -> int:
        """Delete every order from one store; returns how many."""

    @abc.abstractmethod
    def detach_customer(self, customer_id: UUID) -> int:
        """Keep the orders (totals, dates) but forget whose they were; returns how many."""


class AuditRepository(ScopedRepository):
    """Duplicate flags and merge records: what support needs to explain a customer's history."""

    @abc.abstractmethod
    def flag(self, flag: DuplicateFlag) -> None: ...

    @abc.abstractmethod
    def open_flags(self) -> list[DuplicateFlag]: ...

    @abc.abstractmethod
    def record_merge(self, merge: CustomerMerge) -> None: ...

    @abc.abstractmethod
    def merges(self) -> list[CustomerMerge]: ...

    @abc.abstractmethod
    def record_privacy_request(self, request: PrivacyRequest) -> None: ...

    @abc.abstractmethod
    def privacy_requests(self) -> list[PrivacyRequest]: ...


class SettingsRepository(ScopedRepository):
    """The merchant's consent settings: one object per merchant."""

    @abc.abstractmethod
    def get(self) -> MerchantSettings:
        """The stored settings, or the defaults if none were saved yet (not saved by this)."""

    @abc.abstractmethod
    def save(self, settings: MerchantSettings) -> None:
        """Keep these settings (written when the unit of work commits)."""


@dataclass(frozen=True)
class Tenant:
    """All repositories of one merchant, as one unit of work sees them."""

    merchant_id: UUID
    shops: ShopRepository
    customers: CustomerRepository
    wordings: WordingRepository
    referral_codes: ReferralCodeRepository
    orders: OrderRepository
    audit: AuditRepository
    settings: SettingsRepository


class UnitOfWork(abc.ABC):
    """One transaction. Nothing is written unless `commit` is called; leaving rolls back."""

    merchants: MerchantDirectory

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def tenant(self, merchant_id: UUID) -> Tenant: ...

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    def refresh_statistics(self) -> None:
        """Let the database re-plan after a bulk load changed table sizes (a no-op here)."""
        return None

    @abc.abstractmethod
    def _seen_customers(self) -> Iterator[Customer]: ...

    def collect_new_events(self) -> Iterator[DomainEvent]:
        """Drain the domain events raised by every customer this unit of work touched."""
        for customer in self._seen_customers():
            while customer.events:
                yield customer.events.pop(0)
