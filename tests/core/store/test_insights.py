"""The SQL read model means exactly what derive_current means, on random ledgers.

Ledgers are drawn with few timestamps, so ties on occurred_at (and on state, and on level)
are common: those are where a ranking written in SQL would drift from the Python rule. Each
example writes a fresh merchant, so examples never see each other's rows.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
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
    derive_current,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.merchant import Merchant
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.insights import OPT_IN_ANSWERS, Span
from patronkit.core.store.insights import SqlConsentInsights
from patronkit.core.store.unit_of_work import SqlUnitOfWork

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Event times: on period edges (the boundary is inclusive), between them, before the window.
OFFSETS = [timedelta(days=d) for d in (0, 1, 2, 3, 31)] + [timedelta(hours=30)]
CHANNELS = [Channel.EMAIL, Channel.SMS]
PURPOSES = ["marketing", "newsletter"]
TOUCHPOINTS = [None, "checkout", "footer"]

event_spec = st.tuples(
    st.sampled_from(CHANNELS),
    st.sampled_from(PURPOSES),
    st.sampled_from(list(ConsentState)),
    st.sampled_from(list(OptInLevel)),
    st.sampled_from(OFFSETS),
    st.sampled_from(TOUCHPOINTS),
    st.integers(0, 2),  # which wording (0: none)
)
ledger_spec = st.lists(
    st.tuples(st.lists(event_spec, max_size=8), st.booleans()), min_size=1, max_size=6
)


def write_ledger(
    uow: Callable[[], SqlUnitOfWork],
    spec: list[tuple[list[tuple[object, ...]], bool]],
) -> tuple[Merchant, list[Customer], list[ConsentWording]]:
    merchant = Merchant(name="Ledger")
    wordings = [
        ConsentWording(merchant.id, Channel.EMAIL, "en", version, f"v{version}", material=True)
        for version in (1, 2)
    ]
    customers: list[Customer] = []
    for i, (events, merged) in enumerate(spec):
        customer = Customer(merchant_id=merchant.id, email=f"c{i}@example.com")
        facts = set()
        for channel, purpose, state, level, offset, touchpoint, wording in events:
            event = ConsentEvent(
                merchant_id=merchant.id,
                customer_id=customer.id,
                channel=channel,  # type: ignore[arg-type]
                purpose=purpose,  # type: ignore[arg-type]
                state=state,  # type: ignore[arg-type]
                opt_in_level=level,  # type: ignore[arg-type]
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=NOW - offset,  # type: ignore[operator]
                evidence=Evidence(
                    touchpoint=touchpoint,  # type: ignore[arg-type]
                    wording_id=wordings[wording - 1].id if wording else None,  # type: ignore[operator]
                ),
            )
            if event.fact not in facts:  # the ledger holds each fact once per person
                facts.add(event.fact)
                customer.consent_events.append(event)
        if merged and customers:
            customer.merged_into_id = customers[0].id
        customers.append(customer)
    with uow() as work:
        work.merchants.add(merchant)
        tenant = work.tenant(merchant.id)
        for wording in wordings:
            tenant.wordings.add(wording)
        for customer in customers:
            tenant.customers.add(customer)
        work.commit()
    return merchant, [c for c in customers if c.merged_into_id is None], wordings


@contextlib.contextmanager
def insights(engine: sa.Engine, merchant: Merchant) -> Iterator[SqlConsentInsights]:
    with SqlUnitOfWork(engine, read_only=True) as work:
        yield SqlConsentInsights(work.connection, merchant.id)


ledger_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@ledger_settings
@given(spec=ledger_spec)
def test_state_counts_equal_derive_current(
    uow: Callable[[], SqlUnitOfWork],
    clean_db: sa.Engine,
    spec: list[tuple[list[tuple[object, ...]], bool]],
) -> None:
    merchant, live, _ = write_ledger(uow, spec)
    expected: Counter[tuple[Channel, str, str]] = Counter()
    for customer in live:
        for key, status in derive_current(customer.consent_events).items():
            expected[(key.channel, key.purpose, status.state.value)] += 1
    actual: Counter[tuple[Channel, str, str]] = Counter()
    with insights(clean_db, merchant) as read:
        all_counts = read.state_counts()
    for counts in all_counts:
        for state in ConsentState:
            n = getattr(counts, state.value)
            if n:
                actual[(counts.channel, counts.purpose, state.value)] = n
    assert actual == expected


@ledger_settings
@given(spec=ledger_spec)
def test_channel_rates_equal_derive_current_as_of_each_period_end(
    uow: Callable[[], SqlUnitOfWork],
    clean_db: sa.Engine,
    spec: list[tuple[list[tuple[object, ...]], bool]],
) -> None:
    merchant, live, _ = write_ledger(uow, spec)
    edges = Span.DAYS.edges(NOW)
    with insights(clean_db, merchant) as read:
        series = {s.label: s for s in read.channel_rates(edges)}
    for channel in CHANNELS:
        expected = []
        for edge in edges[1:]:
            known = subscribed = 0
            for customer in live:
                events = [
                    e
                    for e in customer.consent_events
                    if e.channel is channel and e.purpose == "marketing" and e.occurred_at <= edge
                ]
                status = derive_current(events)
                for current in status.values():
                    known += 1
                    subscribed += current.state is ConsentState.SUBSCRIBED
            expected.append((subscribed, known))
        if channel.value not in series:
            assert all(known == 0 for _, known in expected)
            continue
        actual = [(p.numerator, p.denominator) for p in series[channel.value].points]
        assert actual == expected
        assert [p.at for p in series[channel.value].points] == edges[1:]


@ledger_settings
@given(spec=ledger_spec)
def test_touchpoint_rates_count_the_answers_of_each_period(
    uow: Callable[[], SqlUnitOfWork],
    clean_db: sa.Engine,
    spec: list[tuple[list[tuple[object, ...]], bool]],
) -> None:
    merchant, live, _ = write_ledger(uow, spec)
    edges = Span.DAYS.edges(NOW)
    expected: dict[str, list[tuple[int, int]]] = {}
    for touchpoint in ("checkout", "footer"):
        points = []
        for start, end in itertools.pairwise(edges):
            answers = [
                e
                for c in live
                for e in c.consent_events
                if e.evidence.touchpoint == touchpoint
                and e.purpose == "marketing"
                and start < e.occurred_at <= end
            ]
            points.append((sum(e.state in OPT_IN_ANSWERS for e in answers), len(answers)))
        if any(n for _, n in points):
            expected[touchpoint] = points
    with insights(clean_db, merchant) as read:
        found = read.touchpoint_rates(edges)
    actual = {s.label: [(p.numerator, p.denominator) for p in s.points] for s in found}
    assert actual == expected


@ledger_settings
@given(spec=ledger_spec)
def test_wording_questions_equal_derive_current(
    uow: Callable[[], SqlUnitOfWork],
    clean_db: sa.Engine,
    spec: list[tuple[list[tuple[object, ...]], bool]],
) -> None:
    merchant, live, wordings = write_ledger(uow, spec)
    with insights(clean_db, merchant) as read:
        check_wording_questions(read, live, wordings)


def check_wording_questions(
    read: SqlConsentInsights, live: list[Customer], wordings: list[ConsentWording]
) -> None:
    by_id = {e.id: e for c in live for e in c.consent_events}
    deciding = {
        (c.id, key): by_id[status.decided_by]
        for c in live
        for key, status in derive_current(c.consent_events).items()
    }
    subscribed = {k: e for k, e in deciding.items() if e.state is ConsentState.SUBSCRIBED}
    usage = read.wording_usage()
    for wording in wordings:
        now = sorted(
            (c for c in live if any(
                e.evidence.wording_id == wording.id and cid == c.id
                for (cid, _), e in subscribed.items()
            )),
            key=lambda c: (c.email, c.id),
        )  # fmt: skip
        ever = {
            c.id
            for c in live
            for e in c.consent_events
            if e.evidence.wording_id == wording.id and e.state in OPT_IN_ANSWERS
        }
        got = usage.get(wording.id)
        assert (got.subscribed_now if got else 0) == len(now)
        assert (got.ever_opted_in if got else 0) == len(ever)
        assert [r.id for r in read.subscribed_under(wording.id)] == [c.id for c in now]
    # Email/marketing subscriptions given under version 1 are "older" than version 2.
    older = sorted(
        cid
        for (cid, key), e in subscribed.items()
        if key.channel is Channel.EMAIL
        and key.purpose == "marketing"
        and e.evidence.wording_id == wordings[0].id
    )
    assert read.subscribed_under_older(Channel.EMAIL, "marketing", "en", 2) == older
    assert read.subscribed_without_wording(Channel.SMS, "marketing") == sum(
        1
        for (_, key), e in subscribed.items()
        if key.channel is Channel.SMS
        and key.purpose == "marketing"
        and e.evidence.wording_id is None
    )


def test_queries_never_cross_merchants(
    uow: Callable[[], SqlUnitOfWork], clean_db: sa.Engine
) -> None:
    spec: list[tuple[list[tuple[object, ...]], bool]] = [
        ([(Channel.EMAIL, "marketing", ConsentState.SUBSCRIBED, OptInLevel.SINGLE,
           timedelta(0), "checkout", 1)], False)
    ]  # fmt: skip
    first, _, wordings = write_ledger(uow, spec)
    second, _, _ = write_ledger(uow, [([], False)])
    with insights(clean_db, second) as other:
        assert other.state_counts() == []
        assert other.channel_rates(Span.DAYS.edges(NOW)) == []
        assert other.touchpoint_rates(Span.DAYS.edges(NOW)) == []
        assert other.recent_events() == []
        assert other.wording_usage() == {}
        assert other.subscribed_under(wordings[0].id) == []
        assert other.subscribed_under_older(Channel.EMAIL, "marketing", "en", 2) == []
    with insights(clean_db, first) as mine:
        assert len(mine.recent_events()) == 1
        assert mine.subscribed_under(wordings[0].id) != []


def test_span_edges_end_now() -> None:
    edges = Span.WEEKS.edges(NOW)
    assert len(edges) == 13 and edges[-1] == NOW and edges[0] == NOW - timedelta(weeks=12)
    with pytest.raises(InvalidValue, match="unknown span"):
        Span.parse("1y")
