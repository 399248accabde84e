"""Merchant A cannot load, list, find or change merchant B's data through any repository."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from patronkit.core.domain.consent import Channel
from patronkit.core.domain.customer import Customer, DuplicateFlag
from patronkit.core.domain.errors import NotFound, ScopeViolation
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.order import OrderSummary
from patronkit.core.domain.referral import ReferralCode
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store.unit_of_work import SqlUnitOfWork

Uow = Callable[[], SqlUnitOfWork]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def two_merchants(uow: Uow) -> tuple[Merchant, Merchant, dict[str, object]]:
    a, b = Merchant(name="A"), Merchant(name="B")
    shop_b = ShopConnection(merchant_id=b.id, platform="teststore", domain="b.example")
    bob = Customer.create(b.id, email="bob@example.com", phone="+14155552671")
    bob.link(shop_b.id, "r-1")
    bob2 = Customer.create(b.id, email="bob+2@example.com")
    wording = ConsentWording(
        merchant_id=b.id, channel=Channel.EMAIL, locale="en", version=1, text="B's wording"
    )
    code = ReferralCode(merchant_id=b.id, customer_id=bob.id)
    order = OrderSummary(
        merchant_id=b.id,
        shop_id=shop_b.id,
        remote_id="o-1",
        total=Decimal(1),
        currency="USD",
        placed_at=T0,
        updated_at=T0,
        customer_id=bob.id,
    )
    with uow() as work:
        work.merchants.add(a)
        work.merchants.add(b)
        tenant_b = work.tenant(b.id)
        tenant_b.shops.add(shop_b)
        tenant_b.customers.add(bob)
        tenant_b.customers.add(bob2)
        tenant_b.wordings.add(wording)
        tenant_b.referral_codes.add(code)
        tenant_b.orders.add(order)
        tenant_b.audit.flag(DuplicateFlag(b.id, bob.id, bob2.id, "same_canonical_email"))
        work.commit()
    return a, b, {"shop": shop_b, "bob": bob, "wording": wording, "code": code, "order": order}


def test_merchant_a_sees_nothing_of_b(
    uow: Uow, two_merchants: tuple[Merchant, Merchant, dict[str, object]]
) -> None:
    a, b, of_b = two_merchants
    shop, bob = of_b["shop"], of_b["bob"]
    wording, code = of_b["wording"], of_b["code"]
    assert isinstance(shop, ShopConnection) and isinstance(bob, Customer)
    assert isinstance(wording, ConsentWording) and isinstance(code, ReferralCode)
    with uow() as work:
        mine = work.tenant(a.id)
        assert mine.customers.find(bob.id) is None
        with pytest.raises(NotFound):
            mine.customers.get(bob.id)
        assert mine.customers.by_email("bob@example.com") is None
        assert mine.customers.by_link(shop.id, "r-1") is None
        assert mine.customers.search("bob") == []
        assert mine.customers.search("") == []
        assert mine.customers.count() == 0
        with pytest.raises(ScopeViolation):
            mine.customers.likely_duplicates_of(bob)
        assert mine.shops.find(shop.id) is None and mine.shops.list() == []
        assert mine.wordings.find(wording.id) is None and mine.wordings.list() == []
        assert mine.wordings.latest(Channel.EMAIL, "marketing", "en") is None
        assert mine.referral_codes.by_code(code.code) is None
        assert mine.referral_codes.for_customer(bob.id) is None
        assert mine.orders.by_remote_id(shop.id, "o-1") is None
        assert mine.orders.for_customer(bob.id) == []
        assert mine.audit.open_flags() == [] and mine.audit.merges() == []
        # The same calls through B's own repositories do find everything.
        theirs = work.tenant(b.id)
        assert theirs.customers.get(bob.id).email == "bob@example.com"
        assert theirs.customers.count() == 2
        assert len(theirs.audit.open_flags()) == 1


def test_merchant_a_cannot_write_into_b(
    uow: Uow, two_merchants: tuple[Merchant, Merchant, dict[str, object]]
) -> None:
    a, b, of_b = two_merchants
    shop = of_b["shop"]
    assert isinstance(shop, ShopConnection)
    with uow() as work:
        mine = work.tenant(a.id)
        with pytest.raises(ScopeViolation):
            mine.customers.add(Customer.create(b.id, email="mallory@example.com"))
        with pytest.raises(ScopeViolation):
            mine.shops.add(
                ShopConnection(merchant_id=b.id, platform="teststore", domain="x.example")
            )
        with pytest.raises(ScopeViolation):
            mine.wordings.add(
                ConsentWording(
                    merchant_id=b.id, channel=Channel.SMS, locale="en", version=9, text="x"
                )
            )
        with pytest.raises(ScopeViolation):
            mine.referral_codes.add(ReferralCode(merchant_id=b.id, customer_id=a.id))
        with pytest.raises(ScopeViolation):
            mine.orders.add(
                OrderSummary(
                    merchant_id=b.id,
                    shop_id=shop.id,
                    remote_id="o-9",
                    total=Decimal(1),
                    currency="USD",
                    placed_at=T0,
                    updated_at=T0,
                )
            )
        with pytest.raises(ScopeViolation):
            mine.audit.flag(DuplicateFlag(b.id, a.id, b.id, "x"))
        work.commit()
    with uow() as work:
        assert work.tenant(b.id).customers.count() == 2
        assert work.tenant(a.id).customers.count() == 0
