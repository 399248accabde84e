"""Re-consent campaigns: the SQL list of who still has to answer is exactly the customers for
whom ReconsentCampaign.still_needed says so, on random ledgers; and asking targets the
customers subscribed under older versions, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import InvalidValue, NotFound
from patronkit.core.domain.merchant import Merchant
from patronkit.core.domain.reconsent import ReconsentCampaign
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.reconsent import ask_for_reconsent
from patronkit.core.store.insights import SqlConsentInsights
from patronkit.core.store.reconsent import SqlReconsentCampaigns
from patronkit.core.store.unit_of_work import SqlUnitOfWork

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def wordings_for(merchant: Merchant) -> list[ConsentWording]:
    v1 = ConsentWording(merchant.id, Channel.EMAIL, "en", 1, "one")
    v2 = v1.next_version("two", material=True)
    v3 = v2.next_version("three", material=False)
    german = ConsentWording(merchant.id, Channel.EMAIL, "de", 3, "drei")  # newer, elsewhere
    return [v1, v2, v3, german]


event_spec = st.tuples(
    st.sampled_from([ConsentState.SUBSCRIBED, ConsentState.UNSUBSCRIBED, ConsentState.PENDING]),
    st.sampled_from(list(OptInLevel)),
    st.integers(0, 2),  # how many hours ago
    st.integers(0, 4),  # which wording (0: none)
)
ledgers = st.lists(st.lists(event_spec, max_size=4), min_size=1, max_size=8)


def write(
    uow: Callable[[], SqlUnitOfWork], spec: list[list[tuple[ConsentState, OptInLevel, int, int]]]
) -> tuple[Merchant, list[Customer], list[ConsentWording]]:
    merchant = Merchant(name="Re-consent")
    wordings = wordings_for(merchant)
    customers = []
    for i, events in enumerate(spec):
        customer = Customer(merchant_id=merchant.id, email=f"c{i}@example.com")
        facts = set()
        for state, level, hours, wording in events:
            event = ConsentEvent(
                merchant_id=merchant.id,
                customer_id=customer.id,
                channel=Channel.EMAIL,
                state=state,
                opt_in_level=level,
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=NOW - timedelta(hours=hours),
                evidence=Evidence(wording_id=wordings[wording - 1].id if wording else None),
            )
            if event.fact not in facts:
                facts.add(event.fact)
                customer.consent_events.append(event)
        customers.append(customer)
    with uow() as work:
        work.merchants.add(merchant)
        for wording in wordings:
            work.tenant(merchant.id).wordings.add(wording)
        for customer in customers:
            work.tenant(merchant.id).customers.add(customer)
        work.commit()
    return merchant, customers, wordings


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=ledgers)
def test_outstanding_is_still_needed_in_sql(
    uow: Callable[[], SqlUnitOfWork],
    clean_db: sa.Engine,
    spec: list[list[tuple[ConsentState, OptInLevel, int, int]]],
) -> None:
    merchant, customers, wordings = write(uow, spec)
    by_id = {w.id: w for w in wordings}
    v2 = wordings[1]
    with SqlUnitOfWork(clean_db) as work:
        campaigns = SqlReconsentCampaigns(work.connection, merchant.id)
        insights = SqlConsentInsights(work.connection, merchant.id)
        older = insights.subscribed_under_older(Channel.EMAIL, "marketing", "en", 2)
        campaign = ReconsentCampaign.start(v2, len(customers), "admin:1", NOW)
        campaigns.add(campaign, [c.id for c in customers])  # target everyone
        outstanding = {ref.id for ref in campaigns.outstanding(campaign, limit=500)}
        count = campaigns.outstanding_count(campaign)
    expected = set()
    expected_older = set()
    for customer in customers:
        status = customer.consent(Channel.EMAIL)
        deciding = (
            next(e for e in customer.consent_events if e.id == status.decided_by)
            if status
            else None
        )
        named = deciding.evidence.wording_id if deciding else None
        wording = by_id.get(named) if named else None
        if campaign.still_needed(status, wording):
            expected.add(customer.id)
        if status and status.state is ConsentState.SUBSCRIBED and wording is wordings[0]:
            expected_older.add(customer.id)
    assert outstanding == expected
    assert count == len(expected)
    assert set(older) == expected_older


def test_asking_targets_older_subscriptions_once(
    uow: Callable[[], SqlUnitOfWork], clean_db: sa.Engine
) -> None:
    spec = [
        [(ConsentState.SUBSCRIBED, OptInLevel.SINGLE, 1, 1)],  # under v1: asked
        [(ConsentState.SUBSCRIBED, OptInLevel.SINGLE, 1, 2)],  # under v2: current
        [(ConsentState.SUBSCRIBED, OptInLevel.SINGLE, 1, 4)],  # German v3: another locale
        [(ConsentState.SUBSCRIBED, OptInLevel.SINGLE, 1, 0)],  # no wording: cannot match
        [
            (ConsentState.SUBSCRIBED, OptInLevel.SINGLE, 2, 1),
            (ConsentState.UNSUBSCRIBED, OptInLevel.SINGLE, 1, 1),  # withdrew since
        ],
    ]
    merchant, customers, wordings = write(uow, spec)  # type: ignore[arg-type]
    _, v2, v3, _ = wordings
    with SqlUnitOfWork(clean_db) as work:
        tenant = work.tenant(merchant.id)
        insights = SqlConsentInsights(work.connection, merchant.id)
        campaigns = SqlReconsentCampaigns(work.connection, merchant.id)

        def ask(wording: ConsentWording) -> ReconsentCampaign:
            return ask_for_reconsent(
                tenant.wordings, insights, campaigns, wording.id, requested_by="admin:7", now=NOW
            )

        with pytest.raises(InvalidValue, match="replaced"):
            ask(v2)  # v3 is the latest
        with pytest.raises(InvalidValue, match="only a material change"):
            ask(v3)
        v4 = v3.next_version("four", material=True)
        tenant.wordings.add(v4)
        work.flush()
        campaign = ask(v4)
        assert campaign.target_count == 2  # under v1 and under v2 (both older than v4)
        assert {r.id for r in campaigns.outstanding(campaign)} == {
            customers[0].id,
            customers[1].id,
        }
        assert [c.id for c in campaigns.for_customer(customers[0].id)] == [campaign.id]
        with pytest.raises(InvalidValue, match="no customer"):
            ask(v4)  # everyone was asked already
        with pytest.raises(NotFound):
            ask_for_reconsent(
                tenant.wordings,
                insights,
                campaigns,
                Merchant(name="x").id,
                requested_by="admin:7",
                now=NOW,
            )
        # Another merchant's repository sees none of it.
        stranger = SqlReconsentCampaigns(work.connection, Merchant(name="y").id)
        assert stranger.find(campaign.id) is None
        assert stranger.for_customer(customers[0].id) == []
        assert stranger.targeted(v4.id) == set()
        stranger_campaign = ReconsentCampaign.start(v4, 1, "admin:9", NOW)
        stranger_campaign.merchant_id = stranger.merchant_id
        with pytest.raises(Exception, match="another merchant"):
            campaigns.add(stranger_campaign, [customers[0].id])
