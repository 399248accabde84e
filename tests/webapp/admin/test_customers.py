"""Customers: search, one customer's consent with its evidence and stores, and a change made
on the customer's behalf, which goes through the sync engine to every linked store."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from patronkit.bootstrap import Runtime
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel, SourceKind
from patronkit.core.domain.customer import Customer
from patronkit.core.services import register_customer
from tests.sync.fakes import FakeGateway
from tests.webapp.admin.support import Seeded, login, meta_session


def page(client: FlaskClient, path: str, seeded: Seeded, **query: str) -> str:
    session = login(client, seeded.admin_domain)
    response = client.get(path, query_string={**session.query(), **query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def load(runtime: Runtime, seeded: Seeded, name: str) -> Customer:
    with runtime.unit_of_work(read_only=True) as uow:
        return uow.tenant(seeded.merchant_id).customers.get(seeded.customer_id(name))


def test_search_by_email_or_name(client: FlaskClient, alpha: Seeded, beta: Seeded) -> None:
    by_email = page(client, "/admin/customers", alpha, q="bob@")
    assert f"bob{alpha.marker}" in by_email and f"ann{alpha.marker}" not in by_email
    by_name = page(client, "/admin/customers", alpha, q="Cat")
    assert f"cat{alpha.marker}" in by_name and f"bob{alpha.marker}" not in by_name
    everyone = page(client, "/admin/customers", alpha)
    assert all(f"{who}{alpha.marker}" in everyone for who in alpha.customers)
    assert beta.marker not in page(client, "/admin/customers", alpha, q="beta")


def test_search_pages_through_many_customers(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    with runtime.unit_of_work() as uow:
        for i in range(30):
            register_customer(uow, alpha.merchant_id, email=f"zz{i:02d}{alpha.marker}")
        uow.commit()
    first = page(client, "/admin/customers", alpha, q="zz")
    rows = re.findall(r"zz(\d\d)@", first)
    assert rows == [f"{i:02d}" for i in range(25)]
    next_link = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_link and "Previous page" not in first
    second = client.get(next_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r"zz(\d\d)@", second) == [f"{i:02d}" for i in range(25, 30)]
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_a_customer_page_shows_consent_evidence_history_and_stores(
    client: FlaskClient, alpha: Seeded
) -> None:
    html = page(client, f"/admin/customers/{alpha.customer_id('ann')}", alpha)
    current = html.split('id="current-consent"', 1)[1].split("</table>", 1)[0]
    assert 'data-key="email"' in current and "state-subscribed" in current
    assert f"/admin/wordings/{alpha.wording_v1.id}" in current and ">v1</a>" in current
    assert alpha.wording_v1.sha256[:12] in current
    for evidence in ("checkout", "203.0.113.7", "Mozilla/5.0 (seed)", "shopper"):
        assert evidence in current
    assert "Needs re-consent" in current  # the seeded campaign asked ann
    stores = html.split('id="store-links"', 1)[1].split("</table>", 1)[0]
    assert "teststore: alpha.example" in stores and "1000" in stores
    # bob's history: both facts of the same second, each with the store it came from.
    bob = page(client, f"/admin/customers/{alpha.customer_id('bob')}", alpha)
    history = bob.split('id="consent-history"', 1)[1].split("</table>", 1)[0]
    assert history.count("teststore:alpha.example") == 2
    assert "state-unsubscribed" in history and "state-subscribed" in history
    bob_now = bob.split('id="current-consent"', 1)[1].split("</table>", 1)[0]
    assert "state-unsubscribed" in bob_now


def test_an_admin_change_is_recorded_as_theirs_and_pushed_to_the_stores(
    client: FlaskClient, runtime: Runtime, fake_store: FakeGateway, alpha: Seeded
) -> None:
    ann = alpha.customer_id("ann")
    html = page(client, f"/admin/customers/{ann}", alpha)
    session = meta_session(html)
    response = client.post(
        f"/admin/customers/{ann}/consent",
        data=session.form(channel="email", state="unsubscribed", purpose="marketing"),
        headers={"User-Agent": "AdminBrowser/1.0"},
    )
    assert response.status_code == 303
    assert "notice=consent-saved" in response.headers["Location"]
    customer = load(runtime, alpha, "ann")
    status = customer.consent(Channel.EMAIL)
    assert status is not None and status.state is ConsentState.UNSUBSCRIBED
    event = next(e for e in customer.consent_events if e.id == status.decided_by)
    assert event.source.kind is SourceKind.ADMIN and event.opt_in_level is OptInLevel.SINGLE
    assert event.evidence.actor == "admin:4242" and event.evidence.touchpoint == "admin"
    assert event.evidence.user_agent == "AdminBrowser/1.0" and event.evidence.ip == "127.0.0.1"
    # SyncEngine.change_consent queued a push to the store ann is linked in.
    assert [(domain, p.customer_remote_id, p.state) for domain, p in fake_store.pushes] == [
        ("alpha.example", "1000", ConsentState.UNSUBSCRIBED)
    ]
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Consent saved" in shown and "admin:4242" in shown


def test_recording_what_the_customer_already_has_changes_nothing(
    client: FlaskClient, runtime: Runtime, fake_store: FakeGateway, alpha: Seeded
) -> None:
    bob = alpha.customer_id("bob")
    session = login(client, alpha.admin_domain)
    data = session.form(channel="email", state="unsubscribed")
    first = client.post(f"/admin/customers/{bob}/consent", data=data)
    second = client.post(f"/admin/customers/{bob}/consent", data=data)
    # Bob had withdrawn already (through the store): the admin's withdrawal means the same.
    assert "notice=consent-unchanged" in first.headers["Location"]
    assert "notice=consent-unchanged" in second.headers["Location"]
    assert fake_store.pushes == []


def test_bad_input_is_refused_and_records_nothing(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    cat = alpha.customer_id("cat")
    session = login(client, alpha.admin_domain)
    before = len(load(runtime, alpha, "cat").consent_events)
    for fields, message in (
        ({"channel": "email", "state": "pending"}, "choose subscribed or unsubscribed"),
        ({"channel": "fax", "state": "subscribed"}, "unknown channel"),
        ({"channel": "email", "state": "maybe"}, "unknown consent state"),
        ({"channel": "email", "state": "subscribed", "purpose": "Not A Slug"}, "purpose"),
    ):
        response = client.post(f"/admin/customers/{cat}/consent", data=session.form(**fields))
        assert response.status_code == 400, fields
        assert message in response.get_data(as_text=True), fields
    assert len(load(runtime, alpha, "cat").consent_events) == before


def test_a_merged_customer_takes_no_new_consent(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    with runtime.unit_of_work() as uow:
        customer = uow.tenant(alpha.merchant_id).customers.get(alpha.customer_id("dan"))
        customer.merged_into_id = alpha.customer_id("eve")
        uow.commit()
    session = login(client, alpha.admin_domain)
    response = client.post(
        f"/admin/customers/{alpha.customer_id('dan')}/consent",
        data=session.form(channel="email", state="subscribed"),
    )
    assert response.status_code == 409
    assert "merged" in response.get_data(as_text=True)


def test_the_api_reports_one_customer(client: FlaskClient, alpha: Seeded) -> None:
    session = login(client, alpha.admin_domain)
    response = client.get(
        f"/admin/api/customers/{alpha.customer_id('dan')}",
        headers={"Authorization": f"Bearer {session.session}"},
    )
    report = response.get_json()
    assert report["email"] == f"dan{alpha.marker}"
    assert report["consent"]["sms"]["state"] == "subscribed"
    assert report["consent"]["email"]["state"] == "not_subscribed"
    assert report["stores"][0]["domain"] == "alpha.example"
