"""The dashboard's numbers are derive_current's, on a seeded ledger full of ties."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from flask.testing import FlaskClient

from patronkit.bootstrap import Runtime
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
from patronkit.core.domain.values import utcnow
from patronkit.core.insights import OPT_IN_ANSWERS, Span
from tests.webapp.admin.support import Seeded, expected_counts, live_customers, login


def add_random_ledger(run: Runtime, seeded: Seeded, customers: int = 40, seed: int = 3) -> None:
    """Customers with several events each, on a handful of seconds (ties of time, and of
    state), some merged away (their events must not count)."""
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    moments = [now - timedelta(days=d, hours=h) for d in (0, 1, 2, 9, 40) for h in (0, 5)]
    made: list[Customer] = []
    for i in range(customers):
        customer = Customer.create(seeded.merchant_id, email=f"r{i}{seeded.marker}")
        facts = set()
        for _ in range(rng.randint(1, 6)):
            event = ConsentEvent(
                merchant_id=seeded.merchant_id,
                customer_id=customer.id,
                channel=rng.choice([Channel.EMAIL, Channel.SMS]),
                state=rng.choice(list(ConsentState)),
                opt_in_level=rng.choice(list(OptInLevel)),
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=rng.choice(moments),
                evidence=Evidence(touchpoint=rng.choice(["checkout", "footer", "popup", None])),
            )
            if event.fact not in facts:
                facts.add(event.fact)
                customer.consent_events.append(event)
        if made and rng.random() < 0.15:
            customer.merged_into_id = made[0].id
        made.append(customer)
    with run.unit_of_work() as uow:
        for customer in made:
            uow.tenant(seeded.merchant_id).customers.add(customer)
        uow.commit()


def shown_counts(html: str) -> dict[tuple[str, str], dict[str, int]]:
    table = html.split('id="state-counts"', 1)[1].split("</table>", 1)[0]
    shown = {}
    for channel, purpose, row in re.findall(
        r'<tr data-channel="([^"]+)" data-purpose="([^"]+)">(.*?)</tr>', table, re.S
    ):
        cells = dict(re.findall(r'data-state="([a-z_]+)">(\d+)</td>', row))
        shown[(channel, purpose)] = {state: int(n) for state, n in cells.items()}
    return shown


def chart_points(html: str, chart_id: str) -> dict[str, list[tuple[int, int]]]:
    section = html.split(f'id="{chart_id}"', 1)[1].split("</section>", 1)[0]
    lines = {}
    for label, body in re.findall(
        r'<g class="line [^"]+" data-series="([^"]+)">(.*?)</g>', section, re.S
    ):
        lines[label] = [
            (int(n), int(d))
            for n, d in re.findall(r'data-numerator="(\d+)"\s+data-denominator="(\d+)"', body)
        ]
    return lines


def test_state_counts_are_derive_currents(
    client: FlaskClient, runtime: Runtime, alpha: Seeded, beta: Seeded
) -> None:
    add_random_ledger(runtime, alpha)
    add_random_ledger(runtime, beta, seed=9)  # another merchant's ledger must not count
    expected = expected_counts(live_customers(runtime, alpha))
    html = client.get("/admin", query_string=login(client, alpha.admin_domain).query()).get_data(
        as_text=True
    )
    assert shown_counts(html) == expected
    # The seeded tie: bob subscribed and unsubscribed in the same second; the withdrawal wins.
    bob = next(c for c in live_customers(runtime, alpha) if c.email == f"bob{alpha.marker}")
    status = bob.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.UNSUBSCRIBED


def test_the_channel_chart_plots_the_derived_rate_at_each_period_end(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    add_random_ledger(runtime, alpha)
    customers = live_customers(runtime, alpha)
    session = login(client, alpha.admin_domain)
    html = client.get("/admin", query_string={**session.query(), "span": "30d"}).get_data(
        as_text=True
    )
    points = chart_points(html, "channel-chart")
    # The page's period ends: the circles' data-at attributes of the email line.
    section = html.split('id="channel-chart"', 1)[1]
    ends = re.findall(r'data-at="([^"]+)"', section.split("</g>", 1)[0])
    assert len(ends) == len(points["email"]) > 0
    for channel in ("email", "sms"):
        expected = []
        for end in ends:
            at = datetime.fromisoformat(end)
            known = subscribed = 0
            for customer in customers:
                events = [
                    e
                    for e in customer.consent_events
                    if e.channel.value == channel
                    and e.purpose == "marketing"
                    and e.occurred_at <= at
                ]
                for status in derive_current(events).values():
                    known += 1
                    subscribed += status.state is ConsentState.SUBSCRIBED
            expected.append((subscribed, known))
        assert points[channel] == expected
    # The last point is now: the same numbers as the counts table.
    counts = shown_counts(html)[("email", "marketing")]
    assert points["email"][-1] == (counts["subscribed"], sum(counts.values()))


def test_the_touchpoint_chart_counts_each_periods_answers(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    add_random_ledger(runtime, alpha)
    customers = live_customers(runtime, alpha)
    edges = Span.WEEKS.edges(utcnow())
    session = login(client, alpha.admin_domain)
    html = client.get("/admin", query_string={**session.query(), "span": "12w"}).get_data(
        as_text=True
    )
    points = chart_points(html, "touchpoint-chart")
    assert set(points) <= {"checkout", "footer", "popup"} and points
    for touchpoint, shown in points.items():
        # Within a second of the page's own clock: compare the totals, period by period.
        answers = [
            e
            for c in customers
            for e in c.consent_events
            if e.evidence.touchpoint == touchpoint
            and e.purpose == "marketing"
            and edges[0] < e.occurred_at <= edges[-1]
        ]
        assert sum(d for _, d in shown) == len(answers)
        assert sum(n for n, _ in shown) == sum(e.state in OPT_IN_ANSWERS for e in answers)


def test_the_api_gives_the_same_numbers(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    add_random_ledger(runtime, alpha)
    expected = expected_counts(live_customers(runtime, alpha))
    session = login(client, alpha.admin_domain)
    data = client.get(
        "/admin/api/insights", headers={"Authorization": f"Bearer {session.session}"}
    ).get_json()
    got = {
        (row["channel"], row["purpose"]): {state.value: row[state.value] for state in ConsentState}
        for row in data["counts"]
    }
    assert got == expected
    email = next(s for s in data["channel_rates"] if s["label"] == "email")
    last = email["points"][-1]
    assert (last["numerator"], last["denominator"]) == (
        expected[("email", "marketing")]["subscribed"],
        sum(expected[("email", "marketing")].values()),
    )


def test_recent_events_list_the_newest_with_their_store(client: FlaskClient, alpha: Seeded) -> None:
    html = client.get("/admin", query_string=login(client, alpha.admin_domain).query()).get_data(
        as_text=True
    )
    recent = html.split('id="recent-events"', 1)[1].split("</table>", 1)[0]
    assert f"bob{alpha.marker}" in recent and "teststore: alpha.example" in recent
    assert recent.count("<tr>") == 9  # the header and the eight seeded events
