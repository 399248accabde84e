from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer, duplicate_reason, merge_customers
from patronkit.core.domain.errors import InvalidEmail, InvalidValue, ScopeViolation
from patronkit.core.domain.events import ConsentChanged, CustomersMerged, CustomerUpserted

MERCHANT = uuid4()
T0 = datetime(2026, 5, 1, tzinfo=UTC)


def consent(customer: Customer, state: ConsentState, at: datetime) -> ConsentEvent:
    return ConsentEvent(
        merchant_id=customer.merchant_id,
        customer_id=customer.id,
        channel=Channel.EMAIL,
        state=state,
        opt_in_level=OptInLevel.SINGLE,
        source=ConsentSource(SourceKind.ADMIN),
        occurred_at=at,
    )


def test_create_normalizes_and_announces() -> None:
    customer = Customer.create(MERCHANT, email=" Ana@Example.com ", phone="+1 415 555 2671")
    assert customer.email == "ana@example.com"
    assert customer.phone == "+14155552671"
    assert customer.events == [CustomerUpserted(MERCHANT, customer.id, created=True)]


def test_a_customer_needs_a_way_to_be_reached() -> None:
    with pytest.raises(InvalidValue):
        Customer.create(MERCHANT)
    with pytest.raises(InvalidEmail):
        Customer.create(MERCHANT, email="nope")


def test_newer_profile_update_applies_and_older_is_ignored() -> None:
    customer = Customer.create(MERCHANT, email="ana@example.com", updated_at=T0)
    customer.events.clear()
    assert customer.update_profile(T0 + timedelta(hours=1), first_name="Ana")
    assert customer.update_profile(T0 + timedelta(minutes=30), first_name="Stale") is False
    assert customer.first_name == "Ana"
    assert customer.updated_at == T0 + timedelta(hours=1)
    assert len(customer.events) == 1


def test_update_without_changes_emits_nothing() -> None:
    customer = Customer.create(MERCHANT, email="ana@example.com", first_name="Ana", updated_at=T0)
    customer.events.clear()
    assert customer.update_profile(T0 + timedelta(hours=1), first_name="Ana") is False
    assert customer.events == []


def test_links_one_record_per_store() -> None:
    customer = Customer.create(MERCHANT, email="ana@example.com")
    shop = uuid4()
    customer.link(shop, "101")
    customer.link(shop, "101", T0)
    assert len(customer.links) == 1
    with pytest.raises(InvalidValue):
        customer.link(shop, "999")


def test_consent_of_another_customer_is_refused() -> None:
    ana = Customer.create(MERCHANT, email="ana@example.com")
    bob = Customer.create(MERCHANT, email="bob@example.com")
    with pytest.raises(ScopeViolation):
        ana.record_consent(consent(bob, ConsentState.SUBSCRIBED, T0))


def test_duplicate_reasons() -> None:
    a = Customer.create(MERCHANT, email="ana.silva@gmail.com", phone="+14155552671")
    b = Customer.create(MERCHANT, email="anasilva+shop@gmail.com")
    c = Customer.create(MERCHANT, email="other@example.com", phone="+14155552671")
    d = Customer.create(MERCHANT, email="dan@example.com")
    assert duplicate_reason(a, b) == "same_canonical_email"
    assert duplicate_reason(a, c) == "same_phone"
    assert duplicate_reason(a, d) is None


def test_merge_moves_links_and_events_and_rederives_consent() -> None:
    survivor = Customer.create(MERCHANT, email="ana@example.com")
    absorbed = Customer.create(MERCHANT, email="ana+old@example.com")
    survivor.record_consent(consent(survivor, ConsentState.SUBSCRIBED, T0))
    withdrawal = consent(absorbed, ConsentState.UNSUBSCRIBED, T0 + timedelta(days=1))
    absorbed.record_consent(withdrawal)
    absorbed.link(uuid4(), "77")
    survivor.events.clear()

    merge = merge_customers(survivor, absorbed, actor="admin:1", now=T0 + timedelta(days=2))

    assert absorbed.merged_into_id == survivor.id
    assert absorbed.links == [] and absorbed.consent_events == []
    assert len(survivor.links) == 1
    assert merge.moved_event_ids == [str(withdrawal.id)]
    assert merge.absorbed_snapshot["email"] == "ana+old@example.com"
    status = survivor.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.UNSUBSCRIBED
    kinds = [type(e) for e in survivor.events]
    assert kinds == [ConsentChanged, CustomersMerged]


def test_merge_refuses_cross_merchant_and_self() -> None:
    a = Customer.create(MERCHANT, email="a@example.com")
    other = Customer.create(uuid4(), email="a@example.com")
    with pytest.raises(ScopeViolation):
        merge_customers(a, other, actor="x", now=T0)
    with pytest.raises(InvalidValue):
        merge_customers(a, a, actor="x", now=T0)
