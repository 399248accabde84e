"""Helpers for admin tests: App Bridge-style session tokens, a seeded merchant, logins.

Each merchant has an embedded (Shopify) store the admin opens from and a test store where
its customers live. Tokens are minted as App Bridge does: HS256 with the app's secret."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
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
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.core.domain.reconsent import ReconsentCampaign
from patronkit.core.domain.values import utcnow
from patronkit.core.domain.wording import ConsentWording
from patronkit.core.store import tables as t
from patronkit.core.store.reconsent import SqlReconsentCampaigns

CLIENT_ID = "patronkit-admin-test-client"
CLIENT_SECRET = "patronkit-admin-test-secret-at-least-32-bytes"
OTHER_SECRET = "some-other-apps-secret-that-is-also-32-bytes"


def platform_token(
    shop_domain: str,
    *,
    secret: str = CLIENT_SECRET,
    lifetime: int = 60,
    issued_at: float | None = None,
    **claims: Any,
) -> str:
    """An App Bridge session token: HS256 with the app's client secret."""
    now = int(issued_at if issued_at is not None else time.time())
    payload: dict[str, Any] = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": CLIENT_ID,
        "sub": "4242",
        "exp": now + lifetime,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Seeded:
    """One merchant's data, and the marks by which a page shows it is theirs."""

    name: str
    merchant_id: UUID
    admin_domain: str  # the embedded store the admin opens from
    store_id: UUID  # the test store the customers are linked in
    customers: dict[str, Customer]
    wording_v1: ConsentWording
    wording_v2: ConsentWording
    campaign_id: UUID
    marker: str  # every email of this merchant ends with it
    extra: dict[str, Any] = field(default_factory=dict)

    def customer_id(self, name: str) -> UUID:
        return self.customers[name].id


def _event(
    customer: Customer,
    channel: Channel,
    state: ConsentState,
    at: datetime,
    *,
    level: OptInLevel = OptInLevel.SINGLE,
    touchpoint: str | None = "checkout",
    wording: ConsentWording | None = None,
    store: UUID | None = None,
) -> ConsentEvent:
    return ConsentEvent(
        merchant_id=customer.merchant_id,
        customer_id=customer.id,
        channel=channel,
        state=state,
        opt_in_level=level,
        source=ConsentSource(SourceKind.STORE, store)
        if store
        else ConsentSource(SourceKind.WIDGET),
        occurred_at=at,
        evidence=Evidence(
            wording_id=wording.id if wording else None,
            wording_version=wording.version if wording else None,
            wording_sha256=wording.sha256 if wording else None,
            touchpoint=touchpoint,
            ip="203.0.113.7",
            user_agent="Mozilla/5.0 (seed)",
            actor="shopper",
        ),
    )


def seed_merchant(run: Runtime, name: str) -> Seeded:
    """A merchant with customers in every state, two wording versions and a campaign.

    ann: email subscribed under v1 (checkout), so asked to re-consent under v2
    bob: email subscribed, then unsubscribed at the same second (the withdrawal wins)
    cat: email pending (footer)
    dan: sms subscribed under no wording; email not_subscribed
    eve: email subscribed under v2 (confirmed)
    fay: email subscribed under v1 (footer), not asked yet
    """
    now = utcnow().replace(microsecond=0)
    merchant = Merchant(name=f"{name.title()} Outfitters")
    admin_domain = f"{name}.myshopify.com"
    shop = ShopConnection(merchant_id=merchant.id, platform="shopify", domain=admin_domain)
    store = ShopConnection(merchant_id=merchant.id, platform="teststore", domain=f"{name}.example")
    store.store_credentials(run.sealer, {"webhook_secret": "secret"})
    v1 = ConsentWording(
        merchant.id, Channel.EMAIL, "en", 1, f"{name}: may we email you?", created_at=now
    )
    v2 = v1.next_version(f"{name}: may we email you offers and news?", material=True, now=now)
    marker = f"@{name}.example"
    customers = {
        who: Customer.create(merchant.id, email=f"{who}{marker}", first_name=who.title())
        for who in ("ann", "bob", "cat", "dan", "eve", "fay")
    }
    day = timedelta(days=1)
    ann, bob, cat, dan, eve, fay = customers.values()
    ann.record_consent(
        _event(ann, Channel.EMAIL, ConsentState.SUBSCRIBED, now - 5 * day, wording=v1)
    )
    bob.record_consent(
        _event(bob, Channel.EMAIL, ConsentState.SUBSCRIBED, now - 3 * day, store=store.id)
    )
    bob.record_consent(
        _event(bob, Channel.EMAIL, ConsentState.UNSUBSCRIBED, now - 3 * day, store=store.id)
    )
    cat.record_consent(
        _event(cat, Channel.EMAIL, ConsentState.PENDING, now - 2 * day, touchpoint="footer")
    )
    dan.record_consent(_event(dan, Channel.SMS, ConsentState.SUBSCRIBED, now - 4 * day))
    dan.record_consent(
        _event(dan, Channel.EMAIL, ConsentState.NOT_SUBSCRIBED, now - 4 * day, store=store.id)
    )
    eve.record_consent(
        _event(
            eve,
            Channel.EMAIL,
            ConsentState.SUBSCRIBED,
            now - day,
            level=OptInLevel.CONFIRMED,
            wording=v2,
        )
    )
    fay.record_consent(
        _event(
            fay,
            Channel.EMAIL,
            ConsentState.SUBSCRIBED,
            now - 6 * day,
            touchpoint="footer",
            wording=v1,
        )
    )
    for i, customer in enumerate(customers.values()):
        customer.link(store.id, f"{1000 + i}")
    with run.unit_of_work() as uow:
        uow.merchants.add(merchant)
        tenant = uow.tenant(merchant.id)
        tenant.shops.add(shop)
        tenant.shops.add(store)
        tenant.wordings.add(v1)
        tenant.wordings.add(v2)
        for customer in customers.values():
            tenant.customers.add(customer)
        settings = tenant.settings.get()
        settings.set_widget_texts("en", {"title": f"{name} newsletter"})
        tenant.settings.save(settings)
        uow.flush()
        campaign = ReconsentCampaign.start(v2, 1, "admin:seed", now)
        SqlReconsentCampaigns(uow.connection, merchant.id).add(campaign, [ann.id])
        uow.commit()
    for customer in customers.values():
        customer.events.clear()
    return Seeded(name, merchant.id, admin_domain, store.id, customers, v1, v2, campaign.id, marker)


@dataclass(frozen=True)
class Login:
    session: str
    csrf_token: str

    def query(self) -> dict[str, str]:
        return {"pk_session": self.session}

    def form(self, **fields: str) -> dict[str, str]:
        return {"pk_session": self.session, "csrf_token": self.csrf_token, **fields}


def login(client: FlaskClient, shop_domain: str) -> Login:
    """The admin session a page's JS would get for a fresh App Bridge token."""
    response = client.post("/admin/session", headers=bearer(platform_token(shop_domain)))
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    return Login(data["session"], data["csrf_token"])


def meta_session(html: str) -> Login:
    """The session and CSRF token a rendered page carries."""
    session = re.search(r'<meta name="patronkit-session" content="([^"]+)"', html)
    csrf = re.search(r'data-csrf="([^"]+)"', html)
    assert session and csrf, "the page carries no admin session"
    return Login(session.group(1), csrf.group(1))


def live_customers(run: Runtime, seeded: Seeded) -> list[Customer]:
    with run.unit_of_work(read_only=True) as uow:
        ids = uow.connection.scalars(
            t.customers.select()
            .with_only_columns(t.customers.c.id)
            .where(
                t.customers.c.merchant_id == seeded.merchant_id,
                t.customers.c.merged_into_id.is_(None),
            )
        ).all()
        tenant = uow.tenant(seeded.merchant_id)
        return [tenant.customers.get(i) for i in ids]


def expected_counts(customers: list[Customer]) -> dict[tuple[str, str], dict[str, int]]:
    counts: dict[tuple[str, str], Counter[str]] = {}
    for customer in customers:
        for key, status in derive_current(customer.consent_events).items():
            counts.setdefault((key.channel.value, key.purpose), Counter())[status.state.value] += 1
    return {
        key: {state.value: counter[state.value] for state in ConsentState}
        for key, counter in counts.items()
    }
