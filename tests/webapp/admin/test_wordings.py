"""Consent wording: versions, who consented under which, and re-consent after a material
change, whose "needs re-consent" state follows the ledger."""

from __future__ import annotations

import email.policy
import re
from datetime import timedelta
from email.parser import BytesParser

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
)
from patronkit.core.domain.values import utcnow
from patronkit.core.domain.wording import ConsentWording
from tests.webapp.admin.support import Login, Seeded, login


def get(client: FlaskClient, session: Login, path: str, **query: str) -> str:
    response = client.get(path, query_string={**session.query(), **query})
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return response.get_data(as_text=True)


def version_row(html: str, wording: ConsentWording) -> dict[str, str]:
    row = html.split(f'data-wording="{wording.id}"', 1)[1].split("</tr>", 1)[0]
    return dict(re.findall(r'data-count="([a-z-]+)">(\d+)<', row))


def subscribe(
    runtime: Runtime, seeded: Seeded, who: str, wording: ConsentWording | None, at_offset: int
) -> None:
    with runtime.unit_of_work() as uow:
        customer = uow.tenant(seeded.merchant_id).customers.get(seeded.customer_id(who))
        customer.record_consent(
            ConsentEvent(
                merchant_id=seeded.merchant_id,
                customer_id=customer.id,
                channel=Channel.EMAIL,
                state=ConsentState.SUBSCRIBED,
                opt_in_level=OptInLevel.CONFIRMED,
                source=ConsentSource(SourceKind.WIDGET),
                occurred_at=utcnow() + timedelta(seconds=at_offset),
                evidence=Evidence(wording_id=wording.id if wording else None),
            )
        )
        uow.commit()


def test_versions_are_listed_with_who_consented_under_them(
    client: FlaskClient, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    html = get(client, session, "/admin/wordings")
    assert "email · marketing · en" in html
    # v1: ann and fay subscribed under it; v2: eve.
    assert version_row(html, alpha.wording_v1) == {"subscribed-now": "2", "ever": "2"}
    assert version_row(html, alpha.wording_v2) == {"subscribed-now": "1", "ever": "1"}
    one = get(client, session, f"/admin/wordings/{alpha.wording_v1.id}")
    listed = one.split('id="subscribed-under"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r">(\w+)@alpha\.example<", listed) == ["ann", "fay"]
    assert alpha.wording_v1.text in one and alpha.wording_v1.sha256 in one


def test_a_new_version_and_its_refusals(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    prefilled = get(client, session, "/admin/wordings", channel="email", locale="en")
    assert alpha.wording_v2.text in prefilled.split('id="create-wording"', 1)[1]
    form = session.form(channel="email", purpose="marketing", locale="en_gb", text="Hello")
    created = client.post("/admin/wordings", data=form)
    assert created.status_code == 303 and "notice=wording-created" in created.headers["Location"]
    shown = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "email · marketing · en-GB: version 1" in shown and "Not a material change" in shown
    again = client.post(
        "/admin/wordings",
        data=session.form(channel="email", purpose="marketing", locale="en", text="v3 text",
                          material="on"),
    )  # fmt: skip
    assert again.status_code == 303
    with runtime.unit_of_work(read_only=True) as uow:
        latest = uow.tenant(alpha.merchant_id).wordings.latest(Channel.EMAIL, "marketing", "en")
    assert latest is not None and (latest.version, latest.material) == (3, True)
    for fields, status, message in (
        ({"text": "v3 text"}, 400, "text of version 3 already"),
        ({"text": "   "}, 400, "wording text"),
        ({"locale": "english!"}, 400, "not a locale"),
        ({"channel": "pigeon"}, 400, "unknown channel"),
    ):
        data = session.form(
            **{"channel": "email", "purpose": "marketing", "locale": "en", "text": "x", **fields}
        )
        response = client.post("/admin/wordings", data=data)
        assert response.status_code == status, fields
        assert message in response.get_data(as_text=True), fields


def test_re_consent_lists_whoever_still_holds_an_older_subscription(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    v2 = f"/admin/wordings/{alpha.wording_v2.id}"
    # ann was asked by the seeded campaign; fay (subscribed under v1) was not.
    assert 'id="older-count">1<' in get(client, session, v2)
    response = client.post(f"{v2}/reconsent", data=session.form())
    assert response.status_code == 303
    campaign_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="waiting-count">1<' in campaign_page and f"fay{alpha.marker}" in campaign_page
    assert f"ann{alpha.marker}" not in campaign_page  # in the earlier campaign, not this one
    # fay (and nobody else) was emailed her preference link, where v2 can be accepted.
    [mail] = sorted((runtime.settings.data_dir / "outbox").glob("*.eml"))
    message = BytesParser(policy=email.policy.default).parse(mail.open("rb"))
    assert message["To"] == f"fay{alpha.marker}"
    assert message["Subject"] == "We have updated our marketing consent"
    assert "/p/" in message.get_content() and message["List-Unsubscribe"]
    fay_page = get(client, session, f"/admin/customers/{alpha.customer_id('fay')}")
    assert "Needs re-consent" in fay_page
    # Nobody is left to ask.
    assert 'id="older-count"' not in get(client, session, v2)
    refused = client.post(f"{v2}/reconsent", data=session.form())
    assert refused.status_code == 409 and "no customer" in refused.get_data(as_text=True)

    # fay subscribes again under v2: she has answered.
    subscribe(runtime, alpha, "fay", alpha.wording_v2, at_offset=1)
    campaign_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="waiting-count">0<' in campaign_page and f"fay{alpha.marker}" not in campaign_page
    assert "Needs re-consent" not in get(
        client, session, f"/admin/customers/{alpha.customer_id('fay')}"
    )
    # ann subscribes again without naming any wording (a store's checkbox): still waiting.
    subscribe(runtime, alpha, "ann", None, at_offset=1)
    seeded_campaign = get(client, session, f"/admin/reconsent/{alpha.campaign_id}")
    assert f"ann{alpha.marker}" in seeded_campaign


def test_re_consent_needs_the_latest_material_version(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    session = login(client, alpha.admin_domain)
    not_material = client.post(
        f"/admin/wordings/{alpha.wording_v1.id}/reconsent", data=session.form()
    )
    assert not_material.status_code == 409
    assert "replaced" in not_material.get_data(as_text=True)
    client.post(
        "/admin/wordings",
        data=session.form(channel="email", purpose="marketing", locale="en", text="v3"),
    )
    superseded = client.post(
        f"/admin/wordings/{alpha.wording_v2.id}/reconsent", data=session.form()
    )
    assert superseded.status_code == 409
    assert "version 3 replaced this one" in superseded.get_data(as_text=True)
    with runtime.unit_of_work(read_only=True) as uow:
        v3 = uow.tenant(alpha.merchant_id).wordings.latest(Channel.EMAIL, "marketing", "en")
    assert v3 is not None and not v3.material
    minor = client.post(f"/admin/wordings/{v3.id}/reconsent", data=session.form())
    assert minor.status_code == 409
    assert "only a material change" in minor.get_data(as_text=True)


def test_subscriptions_without_a_wording_are_counted_apart(
    client: FlaskClient, runtime: Runtime, alpha: Seeded
) -> None:
    subscribe(runtime, alpha, "cat", None, at_offset=0)
    session = login(client, alpha.admin_domain)
    html = get(client, session, "/admin/wordings")
    assert "email · marketing: 1" in html.split('id="unknown-h"', 1)[1]
