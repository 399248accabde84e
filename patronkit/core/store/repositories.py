"""Core's ports over SQLAlchemy Core. Every scoped query filters by merchant_id.

Lookups first consult the objects this unit of work already holds (so it reads its own
writes before they are flushed), then the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from patronkit.core import ports
from patronkit.core.domain.consent import Channel
from patronkit.core.domain.customer import Customer, CustomerMerge, DuplicateFlag
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.privacy import PrivacyRequest
from patronkit.core.domain.referral import ReferralCode, normalize_code
from patronkit.core.domain.settings import MerchantSettings
from patronkit.core.domain.values import normalize_email
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store import mappers as m
from patronkit.core.store import tables as t
from patronkit.core.store.tracking import IdentityMap, load_customers

_MAX_PAGE = 500
T = TypeVar("T")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Store:
    """What every repository shares: the connection and the identity map."""

    def __init__(self, connection: sa.Connection, identity: IdentityMap) -> None:
        self.connection = connection
        self.identity = identity

    def _load(self, mapper: m.Mapper[T], query: sa.Select[Any]) -> list[T]:
        return [
            self.identity.loaded(mapper, row) for row in self.connection.execute(query).mappings()
        ]

    def _held(self, mapper: m.Mapper[T], predicate: Callable[[T], bool]) -> list[T]:
        return [obj for obj in self.identity.all(mapper) if predicate(obj)]


class SqlMerchantDirectory(_Store, ports.MerchantDirectory):
    def add(self, merchant: Merchant) -> None:
        self.identity.add(m.MERCHANTS, merchant)

    def find(self, merchant_id: UUID) -> Merchant | None:
        held = self.identity.get(m.MERCHANTS, merchant_id)
        if held is not None:
            return held
        found = self._load(
            m.MERCHANTS, sa.select(t.merchants).where(t.merchants.c.id == merchant_id)
        )
        return found[0] if found else None

    def shop_by_domain(self, platform: str, domain: str) -> ShopConnection | None:
        domain = domain.strip().lower()
        held = self._held(m.SHOPS, lambda s: s.platform == platform and s.domain == domain)
        if held:
            return held[0]
        c = t.shop_connections.c
        query = sa.select(t.shop_connections).where(c.platform == platform, c.domain == domain)
        found = self._load(m.SHOPS, query)
        return found[0] if found else None

    def active_shops(self) -> list[ShopConnection]:
        c = t.shop_connections.c
        query = sa.select(t.shop_connections).where(c.status == "active").order_by(c.installed_at)
        return self._load(m.SHOPS, query)


class _Scoped(_Store):
    merchant_id: UUID

    def _mine(self, table: sa.Table) -> sa.Select[Any]:
        return sa.select(table).where(table.c.merchant_id == self.merchant_id)

    def _scoped_held(self, mapper: m.Mapper[T], predicate: Callable[[T], bool]) -> list[T]:
        return self._held(mapper, lambda o: o.merchant_id == self.merchant_id and predicate(o))  # type: ignore[attr-defined]


class SqlShopRepository(_Scoped, ports.ShopRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.ShopRepository.__init__(self, merchant_id)

    def add(self, shop: ShopConnection) -> None:
        self._check(shop.merchant_id)
        self.identity.add(m.SHOPS, shop)

    def find(self, shop_id: UUID) -> ShopConnection | None:
        held = self._scoped_held(m.SHOPS, lambda s: s.id == shop_id)
        if held:
            return held[0]
        found = self._load(
            m.SHOPS, self._mine(t.shop_connections).where(t.shop_connections.c.id == shop_id)
        )
        return found[0] if found and found[0].merchant_id == self.merchant_id else None

    def list(self) -> list[ShopConnection]:
        self._load(m.SHOPS, self._mine(t.shop_connections))
        shops = self._scoped_held(m.SHOPS, lambda _: True)
        return sorted(shops, key=lambda s: s.installed_at)


class SqlCustomerRepository(_Scoped, ports.CustomerRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.CustomerRepository.__init__(self, merchant_id)

    def _customers(self, where: Iterable[sa.ColumnElement[bool]]) -> list[Customer]:
        query = self._mine(t.customers).where(*where)
        rows = self.connection.execute(query).mappings()
        return load_customers(self.connection, self.identity, rows)

    def _first(
        self, predicate: Callable[[Customer], bool], *where: sa.ColumnElement[bool]
    ) -> Customer | None:
        held = self._scoped_held(m.CUSTOMERS, predicate)
        if held:
            return held[0]
        # A held object may have changed since its row was written: trust the object.
        return next((c for c in self._customers(where) if predicate(c)), None)

    def _add(self, customer: Customer) -> None:
        self.identity.add(m.CUSTOMERS, customer)

    def _find(self, customer_id: UUID) -> Customer | None:
        held = self.identity.get(m.CUSTOMERS, customer_id)
        if held is not None:
            return held if held.merchant_id == self.merchant_id else None
        found = self._customers([t.customers.c.id == customer_id])
        return found[0] if found else None

    def _by_email(self, email: str) -> Customer | None:
        email = normalize_email(email)
        return self._first(lambda c: c.email == email, t.customers.c.email == email)

    def _by_link(self, shop_id: UUID, remote_id: str) -> Customer | None:
        def linked(customer: Customer) -> bool:
            link = customer.link_for(shop_id)
            return link is not None and link.remote_id == remote_id

        held = self._scoped_held(m.CUSTOMERS, linked)
        if held:
            return held[0]
        link = t.store_links.c
        ids = sa.select(link.customer_id).where(
            link.shop_id == shop_id, link.remote_id == remote_id
        )
        return next((c for c in self._customers([t.customers.c.id.in_(ids)]) if linked(c)), None)

    def by_links(self, shop_id: UUID, remote_ids: Sequence[str]) -> dict[str, Customer]:
        """Many customers by their ids in one store, in one round of queries."""
        link = t.store_links.c
        ids = sa.select(link.customer_id).where(
            link.shop_id == shop_id, link.remote_id.in_(list(remote_ids))
        )
        found: dict[str, Customer] = {}
        for customer in [
            *self._customers([t.customers.c.id.in_(ids)]),
            *self._scoped_held(m.CUSTOMERS, lambda _: True),
        ]:
            held_link = customer.link_for(shop_id)
            if held_link is not None:
                found[held_link.remote_id] = customer
        wanted = set(remote_ids)
        return {rid: c for rid, c in found.items() if rid in wanted}

    def forget_in_store(self, shop_id: UUID, remote_id: str, at: datetime) -> None:
        # Written at once, in this unit of work's transaction: a fact, not an aggregate.
        if not self.deleted_in_store(shop_id, [remote_id]):
            self.connection.execute(
                t.deleted_store_records.insert().values(
                    shop_id=shop_id,
                    remote_id=remote_id,
                    merchant_id=self.merchant_id,
                    deleted_at=at,
                )
            )

    def deleted_in_store(self, shop_id: UUID, remote_ids: Sequence[str]) -> set[str]:
        if not remote_ids:
            return set()
        c = t.deleted_store_records.c
        query = sa.select(c.remote_id).where(
            c.merchant_id == self.merchant_id,
            c.shop_id == shop_id,
            c.remote_id.in_(list(remote_ids)),
        )
        return set(self.connection.scalars(query))

    def by_emails(self, emails: Sequence[str]) -> dict[str, Customer]:
        wanted = {normalize_email(e) for e in emails}
        customers = self._customers([t.customers.c.email.in_(list(wanted))])
        customers += self._scoped_held(m.CUSTOMERS, lambda c: c.email in wanted)
        return {c.email: c for c in customers if c.email in wanted}

    def _search(self, text: str, limit: int, offset: int) -> Sequence[Customer]:
        c = t.customers.c
        pattern = f"%{_escape_like(text.strip().lower())}%"
        full_name = sa.func.lower(
            sa.func.coalesce(c.first_name, "") + " " + sa.func.coalesce(c.last_name, "")
        )
        query = (
            self._mine(t.customers)
            .where(
                c.merged_into_id.is_(None),
                sa.or_(c.email.like(pattern, escape="\\"), full_name.like(pattern, escape="\\")),
            )
            .order_by(c.email, c.id)
            .limit(min(limit, _MAX_PAGE))
            .offset(offset)
        )
        return load_customers(
            self.connection, self.identity, self.connection.execute(query).mappings()
        )

    def _likely_duplicates_of(self, customer: Customer) -> Sequence[Customer]:
        return self.likely_duplicates_among([customer]).get(customer.id, [])

    def likely_duplicates_among(self, customers: Sequence[Customer]) -> dict[UUID, list[Customer]]:
        """For each given customer, the others sharing its phone or canonical email."""
        c = t.customers.c
        phones = {x.phone for x in customers if x.phone}
        canonical = {x.canonical_email for x in customers if x.canonical_email}
        if not phones and not canonical:
            return {}
        # Two queries, each on its own index, rather than one OR that SQLite answers by scanning.
        loaded: list[Customer] = []
        if phones:
            loaded += self._customers([c.merged_into_id.is_(None), c.phone.in_(list(phones))])
        if canonical:
            loaded += self._customers(
                [c.merged_into_id.is_(None), c.canonical_email.in_(list(canonical))]
            )
        candidates = {
            x.id: x
            for x in [
                *loaded,
                *self._scoped_held(
                    m.CUSTOMERS,
                    lambda x: (
                        x.merged_into_id is None
                        and (x.phone in phones or x.canonical_email in canonical)
                    ),
                ),
            ]
        }
        by_phone: dict[str, list[Customer]] = {}
        by_canonical: dict[str, list[Customer]] = {}
        for candidate in candidates.values():
            if candidate.phone:
                by_phone.setdefault(candidate.phone, []).append(candidate)
            if candidate.canonical_email:
                by_canonical.setdefault(candidate.canonical_email, []).append(candidate)
        result: dict[UUID, list[Customer]] = {}
        for customer in customers:
            matches = {
                other.id: other
                for other in [
                    *(by_phone.get(customer.phone, []) if customer.phone else []),
                    *(
                        by_canonical.get(customer.canonical_email, [])
                        if customer.canonical_email
                        else []
                    ),
                ]
                if other.id != customer.id
            }
            result[customer.id] = list(matches.values())
        return result

    def linked_in(self, shop_id: UUID) -> list[Customer]:
        link = t.store_links.c
        ids = sa.select(link.customer_id).where(link.shop_id == shop_id)
        loaded = self._customers([t.customers.c.id.in_(ids)])
        held = self._scoped_held(m.CUSTOMERS, lambda c: c.link_for(shop_id) is not None)
        return list({c.id: c for c in [*loaded, *held] if c.link_for(shop_id)}.values())

    def count(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(t.customers)
            .where(t.customers.c.merchant_id == self.merchant_id)
        )
        return int(self.connection.execute(query).scalar_one())


class SqlWordingRepository(_Scoped, ports.WordingRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.WordingRepository.__init__(self, merchant_id)

    def add(self, wording: ConsentWording) -> None:
        self._check(wording.merchant_id)
        self.identity.add(m.WORDINGS, wording)

    def find(self, wording_id: UUID) -> ConsentWording | None:
        held = self._scoped_held(m.WORDINGS, lambda w: w.id == wording_id)
        if held:
            return held[0]
        found = self._load(
            m.WORDINGS, self._mine(t.consent_wordings).where(t.consent_wordings.c.id == wording_id)
        )
        return found[0] if found else None

    def latest(self, channel: Channel, purpose: str, locale: str) -> ConsentWording | None:
        channel = Channel.parse(channel)
        c = t.consent_wordings.c
        self._load(
            m.WORDINGS,
            self._mine(t.consent_wordings)
            .where(c.channel == channel, c.purpose == purpose, c.locale == locale)
            .order_by(c.version.desc())
            .limit(1),
        )
        candidates = self._scoped_held(
            m.WORDINGS, lambda w: (w.channel, w.purpose, w.locale) == (channel, purpose, locale)
        )
        return max(candidates, key=lambda w: w.version, default=None)

    def list(self) -> list[ConsentWording]:
        self._load(m.WORDINGS, self._mine(t.consent_wordings))
        held = self._scoped_held(m.WORDINGS, lambda _: True)
        return sorted(held, key=lambda w: (w.channel, w.purpose, w.locale, w.version))


class SqlReferralCodeRepository(_Scoped, ports.ReferralCodeRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.ReferralCodeRepository.__init__(self, merchant_id)

    def add(self, code: ReferralCode) -> None:
        self._check(code.merchant_id)
        self.identity.add(m.REFERRAL_CODES, code)

    def _one(
        self, predicate: Callable[[ReferralCode], bool], where: sa.ColumnElement[bool]
    ) -> ReferralCode | None:
        held = self._scoped_held(m.REFERRAL_CODES, predicate)
        if held:
            return held[0]
        found = self._load(m.REFERRAL_CODES, self._mine(t.referral_codes).where(where))
        return found[0] if found else None

    def by_code(self, code: str) -> ReferralCode | None:
        code = normalize_code(code)
        return self._one(lambda r: r.code == code, t.referral_codes.c.code == code)

    def for_customer(self, customer_id: UUID) -> ReferralCode | None:
        return self._one(
            lambda r: r.customer_id == customer_id, t.referral_codes.c.customer_id == customer_id
        )


class SqlOrderRepository(_Scoped, ports.OrderRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.OrderRepository.__init__(self, merchant_id)

    def add(self, order: OrderSummary) -> None:
        self._check(order.merchant_id)
        self.identity.add(m.ORDERS, order)

    def _matching(
        self, predicate: Callable[[OrderSummary], bool], *where: sa.ColumnElement[bool]
    ) -> list[OrderSummary]:
        self._load(m.ORDERS, self._mine(t.orders).where(*where))
        return self._scoped_held(m.ORDERS, predicate)

    def by_remote_id(self, shop_id: UUID, remote_id: str) -> OrderSummary | None:
        c = t.orders.c
        found = self._matching(
            lambda o: (o.shop_id, o.remote_id) == (shop_id, remote_id),
            c.shop_id == shop_id,
            c.remote_id == remote_id,
        )
        return found[0] if found else None

    def for_customer(self, customer_id: UUID) -> list[OrderSummary]:
        found = self._matching(
            lambda o: o.customer_id == customer_id, t.orders.c.customer_id == customer_id
        )
        return sorted(found, key=lambda o: o.placed_at)

    def attach_waiting(self, shop_id: UUID, buyers: Mapping[str, UUID]) -> int:
        c = t.orders.c
        waiting = self._matching(
            lambda o: (
                o.shop_id == shop_id and o.customer_remote_id in buyers and o.customer_id is None
            ),
            c.shop_id == shop_id,
            c.customer_remote_id.in_(list(buyers)),
            c.customer_id.is_(None),
        )
        for order in waiting:
            assert order.customer_remote_id is not None
            order.customer_id = buyers[order.customer_remote_id]
        return len(waiting)

    def delete_for_shop(self, shop_id: UUID) -> int:
        orders = self._matching(lambda o: o.shop_id == shop_id, t.orders.c.shop_id == shop_id)
        for order in orders:
            self.identity.remove(m.ORDERS, order)
        return len(orders)

    def detach_customer(self, customer_id: UUID) -> int:
        orders = self.for_customer(customer_id)
        for order in orders:
            order.customer_id = None
        return len(orders)


class SqlSettingsRepository(_Scoped, ports.SettingsRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.SettingsRepository.__init__(self, merchant_id)

    def get(self) -> MerchantSettings:
        held = self._scoped_held(m.MERCHANT_SETTINGS, lambda _: True)
        if not held:
            held = self._load(m.MERCHANT_SETTINGS, self._mine(t.merchant_settings))
        return held[0] if held else MerchantSettings(merchant_id=self.merchant_id)

    def save(self, settings: MerchantSettings) -> None:
        self._check(settings.merchant_id)
        held = self._scoped_held(m.MERCHANT_SETTINGS, lambda _: True)
        if not held:
            held = self._load(m.MERCHANT_SETTINGS, self._mine(t.merchant_settings))
        if held and held[0] is not settings:
            # Defaults obtained before the row existed, or a copy: one row per merchant, so
            # the held object takes the new values.
            stored = held[0]
            stored.double_opt_in = dict(settings.double_opt_in)
            stored.widget_texts = {k: dict(v) for k, v in settings.widget_texts.items()}
            stored.storefront_origins = tuple(settings.storefront_origins)
            stored.updated_at = settings.updated_at
            return
        self.identity.add(m.MERCHANT_SETTINGS, settings)


class SqlAuditRepository(_Scoped, ports.AuditRepository):
    def __init__(self, connection: sa.Connection, identity: IdentityMap, merchant_id: UUID) -> None:
        _Scoped.__init__(self, connection, identity)
        ports.AuditRepository.__init__(self, merchant_id)

    def flag(self, flag: DuplicateFlag) -> None:
        self._check(flag.merchant_id)
        self.identity.add(m.DUPLICATE_FLAGS, flag)

    def open_flags(self) -> list[DuplicateFlag]:
        self._load(
            m.DUPLICATE_FLAGS,
            self._mine(t.duplicate_flags).where(t.duplicate_flags.c.resolved_at.is_(None)),
        )
        held = self._scoped_held(m.DUPLICATE_FLAGS, lambda f: f.resolved_at is None)
        return sorted(held, key=lambda f: f.flagged_at)

    def record_merge(self, merge: CustomerMerge) -> None:
        self._check(merge.merchant_id)
        self.identity.add(m.MERGES, merge)

    def merges(self) -> list[CustomerMerge]:
        self._load(m.MERGES, self._mine(t.customer_merges))
        return sorted(self._scoped_held(m.MERGES, lambda _: True), key=lambda x: x.merged_at)

    def record_privacy_request(self, request: PrivacyRequest) -> None:
        self._check(request.merchant_id)
        self.identity.add(m.PRIVACY_REQUESTS, request)

    def privacy_requests(self) -> list[PrivacyRequest]:
        self._load(m.PRIVACY_REQUESTS, self._mine(t.privacy_requests))
        return sorted(
            self._scoped_held(m.PRIVACY_REQUESTS, lambda _: True), key=lambda x: x.received_at
        )
