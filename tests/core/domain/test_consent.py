"""The consent ledger's derivation rules, including order-independence as a property."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentKey,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
    derive_current,
    sha256_hex,
)
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.errors import (
    InvalidEvidence,
    NaiveDatetime,
    UnknownChannel,
    UnknownConsentState,
    UnknownOptInLevel,
    UnknownSource,
)
from patronkit.core.domain.events import ConsentChanged

MERCHANT = uuid4()
CUSTOMER = uuid4()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WIDGET = ConsentSource(SourceKind.WIDGET)


def event(
    state: ConsentState,
    at: datetime,
    *,
    channel: Channel = Channel.EMAIL,
    level: OptInLevel = OptInLevel.SINGLE,
    customer_id: UUID = CUSTOMER,
) -> ConsentEvent:
    return ConsentEvent(
        merchant_id=MERCHANT,
        customer_id=customer_id,
        channel=channel,
        state=state,
        opt_in_level=level,
        source=WIDGET,
        occurred_at=at,
    )


def test_newest_event_wins() -> None:
    events = [
        event(ConsentState.SUBSCRIBED, T0),
        event(ConsentState.UNSUBSCRIBED, T0 + timedelta(minutes=1)),
        event(ConsentState.SUBSCRIBED, T0 + timedelta(minutes=2)),
    ]
    status = derive_current(events)[ConsentKey(Channel.EMAIL)]
    assert status.state is ConsentState.SUBSCRIBED
    assert status.occurred_at == T0 + timedelta(minutes=2)
    assert status.decided_by == events[2].id


@pytest.mark.parametrize(
    "other", [ConsentState.SUBSCRIBED, ConsentState.PENDING, ConsentState.NOT_SUBSCRIBED]
)
def test_on_a_tie_withdrawal_wins(other: ConsentState) -> None:
    for order in ((0, 1), (1, 0)):
        pair = [event(other, T0), event(ConsentState.UNSUBSCRIBED, T0)]
        derived = derive_current([pair[i] for i in order])
        assert derived[ConsentKey(Channel.EMAIL)].state is ConsentState.UNSUBSCRIBED


def test_on_a_tie_confirmed_beats_single() -> None:
    single = event(ConsentState.SUBSCRIBED, T0, level=OptInLevel.SINGLE)
    confirmed = event(ConsentState.SUBSCRIBED, T0, level=OptInLevel.CONFIRMED)
    for events in ([single, confirmed], [confirmed, single]):
        assert (
            derive_current(events)[ConsentKey(Channel.EMAIL)].opt_in_level is OptInLevel.CONFIRMED
        )


def test_stale_event_is_kept_but_changes_nothing() -> None:
    customer = Customer(merchant_id=MERCHANT, email="ana@example.com", id=CUSTOMER)
    assert customer.record_consent(event(ConsentState.SUBSCRIBED, T0 + timedelta(hours=1)))
    stale = event(ConsentState.UNSUBSCRIBED, T0)
    assert customer.record_consent(stale) is False
    assert stale in customer.consent_events
    status = customer.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.SUBSCRIBED


def test_channels_are_independent() -> None:
    events = [
        event(ConsentState.SUBSCRIBED, T0, channel=Channel.EMAIL),
        event(ConsentState.UNSUBSCRIBED, T0 + timedelta(minutes=5), channel=Channel.SMS),
    ]
    derived = derive_current(events)
    assert derived[ConsentKey(Channel.EMAIL)].state is ConsentState.SUBSCRIBED
    assert derived[ConsentKey(Channel.SMS)].state is ConsentState.UNSUBSCRIBED


def test_recording_emits_consent_changed_only_when_meaning_changes() -> None:
    customer = Customer(merchant_id=MERCHANT, email="ana@example.com", id=CUSTOMER)
    assert customer.record_consent(event(ConsentState.SUBSCRIBED, T0))
    # Same state and level, later: kept as a fact, but nothing a store needs to hear about.
    assert customer.record_consent(event(ConsentState.SUBSCRIBED, T0 + timedelta(days=1))) is False
    assert customer.record_consent(event(ConsentState.UNSUBSCRIBED, T0 + timedelta(days=2)))
    changes = [e for e in customer.events if isinstance(e, ConsentChanged)]
    assert [c.state for c in changes] == [ConsentState.SUBSCRIBED, ConsentState.UNSUBSCRIBED]
    assert len(customer.consent_events) == 3


def test_a_repeated_fact_is_not_appended_twice() -> None:
    customer = Customer(merchant_id=MERCHANT, email="ana@example.com", id=CUSTOMER)
    first = event(ConsentState.SUBSCRIBED, T0)
    echo = event(ConsentState.SUBSCRIBED, T0)  # e.g. the webhook echo of our own push
    assert customer.record_consent(first)
    assert customer.record_consent(echo) is False
    assert customer.consent_events == [first]


# -- order independence ---------------------------------------------------------------------

_states = st.sampled_from(list(ConsentState))
_levels = st.sampled_from(list(OptInLevel))
_channels = st.sampled_from([Channel.EMAIL, Channel.SMS])
# A narrow time range so ties are common: ties are where order-dependence would hide.
_times = st.integers(min_value=0, max_value=5).map(lambda m: T0 + timedelta(minutes=m))
_event = st.builds(
    lambda state, level, channel, at: event(state, at, channel=channel, level=level),
    _states,
    _levels,
    _channels,
    _times,
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_event, min_size=1, max_size=12), data=st.data())
def test_derivation_is_independent_of_arrival_order(
    events: list[ConsentEvent], data: st.DataObject
) -> None:
    expected = _replay(events)
    for _ in range(3):
        shuffled = data.draw(st.permutations(events))
        assert _replay(shuffled) == expected


# One fixed ledger with ties on every rule, replayed in at least 250 random arrival orders.
_FIXED = [
    event(ConsentState.SUBSCRIBED, T0),
    event(ConsentState.PENDING, T0 + timedelta(minutes=1)),
    event(ConsentState.SUBSCRIBED, T0 + timedelta(minutes=2), level=OptInLevel.CONFIRMED),
    event(ConsentState.SUBSCRIBED, T0 + timedelta(minutes=2), level=OptInLevel.SINGLE),
    event(ConsentState.UNSUBSCRIBED, T0 + timedelta(minutes=3)),
    event(ConsentState.SUBSCRIBED, T0 + timedelta(minutes=3)),
    event(ConsentState.NOT_SUBSCRIBED, T0 + timedelta(minutes=3)),
    event(ConsentState.SUBSCRIBED, T0 + timedelta(minutes=1)),  # stale by the time it lands
    event(ConsentState.SUBSCRIBED, T0, channel=Channel.SMS),
    event(ConsentState.UNSUBSCRIBED, T0, channel=Channel.SMS),
    event(ConsentState.PENDING, T0 + timedelta(minutes=4), channel=Channel.SMS),
    event(ConsentState.SUBSCRIBED, T0 + timedelta(minutes=4), channel=Channel.SMS),
]


@settings(max_examples=250, deadline=None)
@given(order=st.permutations(range(len(_FIXED))))
def test_one_ledger_in_many_arrival_orders_means_one_thing(order: list[int]) -> None:
    meaning, facts = _replay([_FIXED[i] for i in order])
    assert meaning == (
        (
            Channel.EMAIL,
            "marketing",
            ConsentState.UNSUBSCRIBED,
            OptInLevel.SINGLE,
            T0 + timedelta(minutes=3),
        ),
        (
            Channel.SMS,
            "marketing",
            ConsentState.PENDING,
            OptInLevel.SINGLE,
            T0 + timedelta(minutes=4),
        ),
    )
    assert len(facts) == len(_FIXED)


def _replay(events: list[ConsentEvent]) -> tuple[object, ...]:
    """Record events one by one, as arrivals, and return what the ledger then means."""
    customer = Customer(merchant_id=MERCHANT, email="ana@example.com", id=CUSTOMER)
    for item in events:
        customer.record_consent(item)
    current = customer.consents()
    facts = sorted(
        (e.channel, e.purpose, e.state, e.opt_in_level, e.occurred_at)
        for e in customer.consent_events
    )
    meaning = sorted(
        (key.channel, key.purpose, s.state, s.opt_in_level, s.occurred_at)
        for key, s in current.items()
    )
    return (tuple(meaning), tuple(facts))


# -- bad input -------------------------------------------------------------------------------


def test_bad_input_raises_clear_domain_errors() -> None:
    with pytest.raises(UnknownChannel, match="carrier pigeon"):
        event(ConsentState.SUBSCRIBED, T0, channel="carrier pigeon")  # type: ignore[arg-type]
    with pytest.raises(UnknownConsentState, match="maybe"):
        event("maybe", T0)  # type: ignore[arg-type]
    with pytest.raises(UnknownOptInLevel):
        event(ConsentState.SUBSCRIBED, T0, level="triple")  # type: ignore[arg-type]
    with pytest.raises(NaiveDatetime, match="occurred_at"):
        event(ConsentState.SUBSCRIBED, datetime(2026, 3, 1, 12, 0))
    with pytest.raises(UnknownSource):
        ConsentSource(SourceKind.STORE)  # a store event must say which store
    with pytest.raises(UnknownSource):
        ConsentSource("telepathy")  # type: ignore[arg-type]
    with pytest.raises(InvalidEvidence):
        Evidence(ip="999.1.1.1")
    with pytest.raises(InvalidEvidence):
        Evidence(wording_sha256="not-a-hash")


def test_evidence_normalizes_and_bounds_its_fields() -> None:
    text = "I agree to receive emails."
    evidence = Evidence(
        wording_sha256=sha256_hex(text),
        ip="2001:DB8::1",
        user_agent="x" * 2000,
        touchpoint="checkout",
    )
    assert evidence.ip == "2001:db8::1"
    assert evidence.user_agent is not None and len(evidence.user_agent) == 512
    assert evidence.wording_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_occurred_at_has_whole_second_precision_like_the_stores() -> None:
    precise = T0.replace(microsecond=654321)
    assert event(ConsentState.SUBSCRIBED, precise).occurred_at == T0
