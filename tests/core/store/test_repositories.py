"""Every entity survives a round trip through its repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer, DuplicateFlag, merge_customers
from patronkit.core.domain.merchant import Merchant, ShopConnection, ShopStatus
from patronkit.core.domain.order import FinancialStatus, OrderSummary, Refund
from patronkit.core.domain.referral import ReferralCode, display_code
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=UTC)
Uow = Callable[[], SqlUnitOfWork]


def test_merchant_and_shop_round_trip(uow: Uow, sealer: FernetSealer) -> None:
    merchant = Merchant(name="Round Trip Ltd", created_at=T0)
    shop = ShopConnection(
        merchant_id=merchant.id,
        platform="teststore",
        domain="rt.example",
        remote_shop_id="42",
        api_url="https://rt.example",
        installed_at=T0,
    )
    shop.store_credentials(sealer, {"access_token": "tok", "scope": "read_customers"})
    shop.advance_cursor("customers", "2026-06-01T00:00:00Z")
    with uow() as work:
        work.merchants.add(merchant)
        work.tenant(merchant.id).shops.add(shop)
        work.commit()
    with uow() as work:
        loaded = work.merchants.get(merchant.id)
        assert (loaded.name, loaded.created_at) == ("Round Trip Ltd", T0)
        found = work.merchants.shop_by_domain("teststore", "RT.example")
        assert found is not None and found.id == shop.id
        got = work.tenant(merchant.id).shops.get(shop.id)
        assert got.credentials(sealer) == {"access_token": "tok", "scope": "read_customers"}
        assert got.cursors == {"customers": "2026-06-01T00:00:00Z"}
        assert (got.status, got.installed_at, got.remote_shop_id) == (ShopStatus.ACTIVE, T0, "42")
        got.advance_cursor("orders", "x")
        got.mark_uninstalled(T0 + timedelta(days=1))
        work.commit()
    with uow() as work:
        got = work.tenant(merchant.id).shops.get(shop.id)
        assert got.cursors == {"customers": "2026-06-01T00:00:00Z", "orders": "x"}
        assert got.status is ShopStatus.UNINSTALLED and got.sealed_credentials is None


def test_customer_with_links_and_consent_round_trips(
    uow: Uow, merchant: Merchant, shop: ShopConnection
) -> None:
    customer = Customer.create(
        merchant.id,
        email="Ana@Example.com",
        phone="+14155552671",
        first_name="Ana",
        last_name="Silva",
        updated_at=T0,
    )
    customer.link(shop.id, "gid://x/Customer/1", T0)
    wording = ConsentWording(
        merchant_id=merchant.id,
        channel=Channel.EMAIL,
        locale="en",
        version=1,
        text="Email me offers.",
    )
    event = ConsentEvent(
        merchant_id=merchant.id,
        customer_id=customer.id,
        channel=Channel.EMAIL,
        state=ConsentState.SUBSCRIBED,
        opt_in_level=OptInLevel.CONFIRMED,
        source=ConsentSource(SourceKind.STORE, shop.id),
        occurred_at=T0,
        recorded_at=T0,
        evidence=Evidence(
            wording_id=wording.id,
            wording_version=1,
            wording_sha256=wording.sha256,
            touchpoint="checkout",
            ip="203.0.113.9",
            user_agent="Firefox",
            actor="shopper",
        ),
    )
    customer.record_consent(event)
    with uow() as work:
        tenant = work.tenant(merchant.id)
        tenant.wordings.add(wording)
        tenant.customers.add(customer)
        work.commit()

    with uow() as work:
        tenant = work.tenant(merchant.id)
        loaded = tenant.customers.get(customer.id)
        assert loaded.events == []
        assert (loaded.email, loaded.phone, loaded.first_name, loaded.last_name) == (
            "ana@example.com",
            "+14155552671",
            "Ana",
            "Silva",
        )
        assert loaded.updated_at == T0 and loaded.canonical_email == "ana@example.com"
        assert [
            (link.shop_id, link.remote_id, link.remote_updated_at) for link in loaded.links
        ] == [(shop.id, "gid://x/Customer/1", T0)]
        [stored] = loaded.consent_events
        assert stored.id == event.id
        assert stored.source == ConsentSource(SourceKind.STORE, shop.id)
        assert stored.evidence == event.evidence
        assert (stored.state, stored.opt_in_level, stored.occurred_at) == (
            ConsentState.SUBSCRIBED,
            OptInLevel.CONFIRMED,
            T0.replace(microsecond=0),
        )
        assert tenant.customers.by_email("ANA@example.com") is loaded
        assert tenant.customers.by_link(shop.id, "gid://x/Customer/1") is loaded
        assert [c.id for c in tenant.customers.search("silva")] == [customer.id]
        assert [c.id for c in tenant.customers.search("ana sil")] == [customer.id]
        assert tenant.customers.count() == 1
        # A later withdrawal is appended; the earlier row is untouched.
        later = ConsentEvent(
            merchant_id=merchant.id,
            customer_id=customer.id,
            channel=Channel.EMAIL,
            state=ConsentState.UNSUBSCRIBED,
            opt_in_level=OptInLevel.SINGLE,
            source=ConsentSource(SourceKind.WIDGET),
            occurred_at=T0 + timedelta(days=3),
        )
        assert loaded.record_consent(later)
        work.commit()

    with uow() as work:
        loaded = work.tenant(merchant.id).customers.get(customer.id)
        assert [e.state for e in loaded.consent_events] == [
            ConsentState.SUBSCRIBED,
            ConsentState.UNSUBSCRIBED,
        ]
        status = loaded.consent(Channel.EMAIL)
        assert status is not None and status.state is ConsentState.UNSUBSCRIBED


def test_wording_referral_order_and_audit_round_trip(
    uow: Uow, merchant: Merchant, shop: ShopConnection
) -> None:
    ana = Customer.create(merchant.id, email="ana@gmail.com")
    ana2 = Customer.create(merchant.id, email="a.n.a+2@gmail.com")
    v1 = ConsentWording(
        merchant_id=merchant.id,
        channel=Channel.SMS,
        locale="de",
        version=1,
        text="SMS bitte.",
        created_at=T0,
    )
    v2 = v1.next_version("SMS mit Angeboten bitte.", material=True, now=T0 + timedelta(days=1))
    code = ReferralCode(merchant_id=merchant.id, customer_id=ana.id, created_at=T0)
    order = OrderSummary(
        merchant_id=merchant.id,
        shop_id=shop.id,
        remote_id="5001",
        customer_id=ana.id,
        total=Decimal("1234.5678"),
        currency="EUR",
        placed_at=T0,
        updated_at=T0,
        financial_status=FinancialStatus.PARTIALLY_REFUNDED,
        outstanding=Decimal("0.01"),
        discount_codes=["WELCOME10"],
        refunds=[Refund(Decimal("9.99"), T0 + timedelta(days=2))],
        paid_at=T0,
        fulfilled_at=T0 + timedelta(days=1),
        delivered_at=T0 + timedelta(days=3),
    )
    with uow() as work:
        tenant = work.tenant(merchant.id)
        for item in (ana, ana2):
            tenant.customers.add(item)
        tenant.wordings.add(v1)
        tenant.wordings.add(v2)
        tenant.referral_codes.add(code)
        tenant.orders.add(order)
        work.commit()

    with uow() as work:
        tenant = work.tenant(merchant.id)
        latest = tenant.wordings.latest(Channel.SMS, "marketing", "de")
        assert latest is not None and (latest.version, latest.material) == (2, True)
        assert latest.sha256 == v2.sha256 and latest.text == "SMS mit Angeboten bitte."
        assert [w.version for w in tenant.wordings.list()] == [1, 2]
        found = tenant.referral_codes.by_code(display_code(code.code).lower())
        assert found is not None and found.customer_id == ana.id
        assert tenant.referral_codes.for_customer(ana.id) is found
        stored = tenant.orders.by_remote_id(shop.id, "5001")
        assert stored is not None
        assert stored.total == Decimal("1234.5678") and stored.outstanding == Decimal("0.01")
        assert stored.refunds == [Refund(Decimal("9.99"), T0 + timedelta(days=2))]
        assert stored.discount_codes == ["WELCOME10"]
        assert stored.delivered_at == T0 + timedelta(days=3)
        assert tenant.orders.for_customer(ana.id) == [stored]

        loaded_ana = tenant.customers.get(ana.id)
        [dupe] = tenant.customers.likely_duplicates_of(loaded_ana)
        assert dupe.id == ana2.id
        tenant.audit.flag(DuplicateFlag(merchant.id, ana.id, ana2.id, "same_canonical_email"))
        merge = merge_customers(loaded_ana, dupe, actor="admin:7", now=T0 + timedelta(days=5))
        tenant.audit.record_merge(merge)
        work.commit()

    with uow() as work:
        tenant = work.tenant(merchant.id)
        [flag] = tenant.audit.open_flags()
        assert (flag.customer_id, flag.other_customer_id) == (ana.id, ana2.id)
        [merge_record] = tenant.audit.merges()
        assert merge_record.actor == "admin:7"
        assert merge_record.absorbed_snapshot["email"] == "a.n.a+2@gmail.com"
        assert tenant.customers.get(ana2.id).merged_into_id == ana.id
        assert [c.id for c in tenant.customers.search("gmail")] == [ana.id]


def test_the_database_refuses_a_second_copy_of_one_fact(
    uow: Uow, merchant: Merchant, database_url: str
) -> None:
    """Two workers racing on one redelivery: the unique constraint keeps one ledger row."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE), so the race cannot happen")
    customer = Customer.create(merchant.id, email="race@example.com")
    with uow() as work:
        work.tenant(merchant.id).customers.add(customer)
        work.commit()

    def subscribe() -> ConsentEvent:
        return ConsentEvent(
            merchant_id=merchant.id,
            customer_id=customer.id,
            channel=Channel.EMAIL,
            state=ConsentState.SUBSCRIBED,
            opt_in_level=OptInLevel.SINGLE,
            source=ConsentSource(SourceKind.WIDGET),
            occurred_at=T0,
        )

    with uow() as first, uow() as second:
        first.tenant(merchant.id).customers.get(customer.id).record_consent(subscribe())
        second.tenant(merchant.id).customers.get(customer.id).record_consent(subscribe())
        first.commit()
        with pytest.raises(IntegrityError):
            second.commit()
    with uow() as work:
        assert len(work.tenant(merchant.id).customers.get(customer.id).consent_events) == 1
