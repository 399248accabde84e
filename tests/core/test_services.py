from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from patronkit.core import services
from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.privacy import PrivacyRequest, PrivacyRequestKind
from patronkit.core.store.unit_of_work import SqlUnitOfWork

Uow = Callable[[], SqlUnitOfWork]
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def test_registering_flags_likely_duplicates(uow: Uow, merchant: Merchant) -> None:
    with uow() as work:
        first = services.register_customer(work, merchant.id, email="ana.silva@gmail.com")
        second = services.register_customer(work, merchant.id, email="anasilva+news@gmail.com")
        services.register_customer(work, merchant.id, email="bob@example.com")
        work.commit()
    with uow() as work:
        [flag] = work.tenant(merchant.id).audit.open_flags()
        assert (flag.customer_id, flag.other_customer_id, flag.reason) == (
            second.id,
            first.id,
            "same_canonical_email",
        )


def test_merge_is_audited(uow: Uow, merchant: Merchant) -> None:
    with uow() as work:
        a = services.register_customer(work, merchant.id, email="a@example.com")
        b = services.register_customer(work, merchant.id, email="a+old@example.com")
        services.merge(work, merchant.id, a.id, b.id, actor="support:1", now=T0)
        work.commit()
    with uow() as work:
        [merge] = work.tenant(merchant.id).audit.merges()
        assert (merge.survivor_id, merge.absorbed_id, merge.actor) == (a.id, b.id, "support:1")


def test_redacting_a_customer_erases_pii_and_keeps_the_record(
    uow: Uow, merchant: Merchant, shop: ShopConnection
) -> None:
    with uow() as work:
        ana = services.register_customer(
            work, merchant.id, email="ana@example.com", phone="+14155552671", first_name="Ana"
        )
        ana.link(shop.id, "77")
        ana.record_consent(
            ConsentEvent(
                merchant_id=merchant.id,
                customer_id=ana.id,
                channel=Channel.EMAIL,
                state=ConsentState.SUBSCRIBED,
                opt_in_level=OptInLevel.CONFIRMED,
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=T0,
                evidence=Evidence(ip="198.51.100.4", user_agent="Safari", touchpoint="checkout"),
            )
        )
        work.commit()
    with uow() as work:
        customer = work.tenant(merchant.id).customers.get(ana.id)
        request = PrivacyRequest(
            merchant.id, PrivacyRequestKind.REDACT_CUSTOMER, T0, shop_id=shop.id, reference="r-9"
        )
        services.redact_customer(work, request, customer, T0)
        work.commit()
    with uow() as work:
        customer = work.tenant(merchant.id).customers.get(ana.id)
        assert (customer.email, customer.phone, customer.first_name) == (None, None, None)
        assert customer.redacted_at == T0
        [event] = customer.consent_events
        assert (event.evidence.ip, event.evidence.user_agent) == (None, None)
        assert event.evidence.touchpoint == "checkout"  # not personal: kept as proof
        [record] = work.tenant(merchant.id).audit.privacy_requests()
        assert record.completed_at == T0 and record.customer_id == ana.id
        assert record.outcome["evidence_records"] == 1 and record.reference == "r-9"
        assert "ana@example.com" not in str(record.outcome)
