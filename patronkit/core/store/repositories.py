"""SQLAlchemy implementations of core's ports. Every scoped query filters by merchant_id.

Queries name table columns (typed) rather than the imperatively mapped class attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from patronkit.core import ports
from patronkit.core.domain.consent import Channel
from patronkit.core.domain.customer import Customer, CustomerMerge, DuplicateFlag
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.privacy import PrivacyRequest
from patronkit.core.domain.referral import ReferralCode, normalize_code
from patronkit.core.domain.values import normalize_email
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store import tables as t

_MAX_PAGE = 500


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlMerchantDirectory(ports.MerchantDirectory):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, merchant: Merchant) -> None:
        self.session.add(merchant)
        # Nothing maps a relationship to Merchant, so the ORM would not know to insert it before
        # the shops and customers added in the same transaction (an install does exactly that).
        self.session.flush()

    def find(self, merchant_id: UUID) -> Merchant | None:
        return self.session.get(Merchant, merchant_id)

    def shop_by_domain(self, platform: str, domain: str) -> ShopConnection | None:
        c = t.shop_connections.c
        query = sa.select(ShopConnection).where(
            c.platform == platform, c.domain == domain.strip().lower()
        )
        return self.session.scalars(query).one_or_none()

    def active_shops(self) -> list[ShopConnection]:
        c = t.shop_connections.c
        query = sa.select(ShopConnection).where(c.status == "active").order_by(c.installed_at)
        return list(self.session.scalars(query))


class _Scoped:
    """Helpers for a repository bound to one merchant: every select starts filtered by it."""

    merchant_id: UUID
    session: Session

    def _select(self, entity: type[Any], table: sa.Table) -> sa.Select[Any]:
        return sa.select(entity).where(table.c.merchant_id == self.merchant_id)


class SqlShopRepository(_Scoped, ports.ShopRepository):
    def __init__(self, session: Session, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.session = session

    def add(self, shop: ShopConnection) -> None:
        self._check(shop.merchant_id)
        self.session.add(shop)

    def find(self, shop_id: UUID) -> ShopConnection | None:
        query = self._select(ShopConnection, t.shop_connections).where(
            t.shop_connections.c.id == shop_id
        )
        return self.session.scalars(query).one_or_none()

    def list(self) -> list[ShopConnection]:
        query = self._select(ShopConnection, t.shop_connections).order_by(
            t.shop_connections.c.installed_at
        )
        return list(self.session.scalars(query))


class SqlCustomerRepository(_Scoped, ports.CustomerRepository):
    def __init__(self, session: Session, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.session = session

    def _mine(self) -> sa.Select[Any]:
        return self._select(Customer, t.customers)

    def _add(self, customer: Customer) -> None:
        self.session.add(customer)

    def _find(self, customer_id: UUID) -> Customer | None:
        query = self._mine().where(t.customers.c.id == customer_id)
        return self.session.scalars(query).one_or_none()

    def _by_email(self, email: str) -> Customer | None:
        query = self._mine().where(t.customers.c.email == normalize_email(email))
        return self.session.scalars(query).one_or_none()

    def _by_link(self, shop_id: UUID, remote_id: str) -> Customer | None:
        link = t.store_links.c
        query = (
            self._mine()
            .join(t.store_links, link.customer_id == t.customers.c.id)
            .where(link.shop_id == shop_id, link.remote_id == remote_id)
        )
        return self.session.scalars(query).one_or_none()

    def _search(self, text: str, limit: int, offset: int) -> Sequence[Customer]:
        c = t.customers.c
        pattern = f"%{_escape_like(text.strip().lower())}%"
        full_name = sa.func.lower(
            sa.func.coalesce(c.first_name, "") + " " + sa.func.coalesce(c.last_name, "")
        )
        query = (
            self._mine()
            .where(
                c.merged_into_id.is_(None),
                sa.or_(c.email.like(pattern, escape="\\"), full_name.like(pattern, escape="\\")),
            )
            .order_by(c.email, c.id)
            .limit(min(limit, _MAX_PAGE))
            .offset(offset)
        )
        return self.session.scalars(query).all()

    def _likely_duplicates_of(self, customer: Customer) -> Sequence[Customer]:
        c = t.customers.c
        clauses = []
        if customer.phone:
            clauses.append(c.phone == customer.phone)
        if customer.canonical_email:
            clauses.append(c.canonical_email == customer.canonical_email)
        if not clauses:
            return []
        query = self._mine().where(
            c.id != customer.id, c.merged_into_id.is_(None), sa.or_(*clauses)
        )
        return self.session.scalars(query).all()

    def linked_in(self, shop_id: UUID) -> list[Customer]:
        link = t.store_links.c
        query = (
            self._mine()
            .join(t.store_links, link.customer_id == t.customers.c.id)
            .where(link.shop_id == shop_id)
        )
        return [self._track_one(c) for c in self.session.scalars(query)]

    def count(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(t.customers)
            .where(t.customers.c.merchant_id == self.merchant_id)
        )
        return int(self.session.scalar(query) or 0)


class SqlWordingRepository(_Scoped, ports.WordingRepository):
    def __init__(self, session: Session, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.session = session

    def add(self, wording: ConsentWording) -> None:
        self._check(wording.merchant_id)
        self.session.add(wording)

    def find(self, wording_id: UUID) -> ConsentWording | None:
        query = self._select(ConsentWording, t.consent_wordings).where(
            t.consent_wordings.c.id == wording_id
        )
        return self.session.scalars(query).one_or_none()

    def latest(self, channel: Channel, purpose: str, locale: str) -> ConsentWording | None:
        c = t.consent_wordings.c
        query = (
            self._select(ConsentWording, t.consent_wordings)
            .where(c.channel == Channel.parse(channel), c.purpose == purpose, c.locale == locale)
            .order_by(c.version.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def list(self) -> list[ConsentWording]:
        c = t.consent_wordings.c
        query = self._select(ConsentWording, t.consent_wordings).order_by(
            c.channel, c.purpose, c.locale, c.version
        )
        return list(self.session.scalars(query))


class SqlReferralCodeRepository(_Scoped, ports.ReferralCodeRepository):
    def __init__(self, session: Session, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.session = session

    def add(self, code: ReferralCode) -> None:
        self._check(code.merchant_id)
        self.session.add(code)

    def by_code(self, code: str) -> ReferralCode | None:
        query = self._select(ReferralCode, t.referral_codes).where(
            t.referral_codes.c.code == normalize_code(code)
        )
        return self.session.scalars(query).one_or_none()

    def for_customer(self, customer_id: UUID) -> ReferralCode | None:
        query = self._select(ReferralCode, t.referral_codes).where(
            t.referral_codes.c.customer_id == customer_id
        )
        return self.session.scalars(query).one_or_none()


class SqlOrderRepository(_Scoped, ports.OrderRepository):
    def __init__(self, session: Session, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.session = session

    def add(self, order: OrderSummary) -> None:
        self._check(order.merchant_id)
        self.session.add(order)

    def by_remote_id(self, shop_id: UUID, remote_id: str) -> OrderSummary | None:
        c = t.orders.c
        query = self._select(OrderSummary, t.orders).where(
            c.shop_id == shop_id, c.remote_id == remote_id
        )
        return self.session.scalars(query).one_or_none()

    def for_customer(self, customer_id: UUID) -> list[OrderSummary]:
        c = t.orders.c
        query = (
            self._select(OrderSummary, t.orders)
            .where(c.customer_id == customer_id)
            .order_by(c.placed_at)
        )
        return list(self.session.scalars(query))

    def attach_waiting(self, shop_id: UUID, customer_remote_id: str, customer_id: UUID) -> int:
        c = t.orders.c
        query = self._select(OrderSummary, t.orders).where(
            c.shop_id == shop_id,
            c.customer_remote_id == customer_remote_id,
            c.customer_id.is_(None),
        )
        orders = list(self.session.scalars(query))
        for order in orders:
            order.customer_id = customer_id
        return len(orders)

    def delete_for_shop(self, shop_id: UUID) -> int:
        query = self._select(OrderSummary, t.orders).where(t.orders.c.shop_id == shop_id)
        orders = list(self.session.scalars(query))
        for order in orders:
            self.session.delete(order)
        return len(orders)

    def detach_customer(self, customer_id: UUID) -> int:
        orders = self.for_customer(customer_id)
        for order in orders:
            order.customer_id = None
        return len(orders)


class SqlAuditRepository(_Scoped, ports.AuditRepository):
    def __init__(self, session: Session, merchant_id: UUID) -> None:
        super().__init__(merchant_id)
        self.session = session

    def flag(self, flag: DuplicateFlag) -> None:
        self._check(flag.merchant_id)
        self.session.add(flag)

    def open_flags(self) -> list[DuplicateFlag]:
        c = t.duplicate_flags.c
        query = (
            self._select(DuplicateFlag, t.duplicate_flags)
            .where(c.resolved_at.is_(None))
            .order_by(c.flagged_at)
        )
        return list(self.session.scalars(query))

    def record_merge(self, merge: CustomerMerge) -> None:
        self._check(merge.merchant_id)
        self.session.add(merge)

    def record_privacy_request(self, request: PrivacyRequest) -> None:
        self._check(request.merchant_id)
        self.session.add(request)

    def privacy_requests(self) -> list[PrivacyRequest]:
        query = self._select(PrivacyRequest, t.privacy_requests).order_by(
            t.privacy_requests.c.received_at
        )
        return list(self.session.scalars(query))

    def merges(self) -> list[CustomerMerge]:
        query = self._select(CustomerMerge, t.customer_merges).order_by(
            t.customer_merges.c.merged_at
        )
        return list(self.session.scalars(query))
