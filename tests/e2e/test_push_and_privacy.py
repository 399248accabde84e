"""Core → Shopify pushes (echo, throttling, faults) and the privacy webhooks, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
import requests
import sqlalchemy as sa

from patronkit.adapters.shopify.simulator import sign
from patronkit.core.domain.consent import (
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    Evidence,
    OptInLevel,
    SourceKind,
)
from patronkit.core.domain.privacy import PrivacyRequestKind
from patronkit.core.store import tables
from patronkit.sync.importer import sync_shop
from patronkit.sync.tables import inbox, outbox
from tests.e2e.stack import Stack, differences, running_stack


@pytest.fixture
def stack(database_url: str, tmp_path: Path, clean_db: object) -> Iterator[Stack]:
    with running_stack(database_url, tmp_path, customers=120) as stack:
        sync_shop(stack.runtime.sync, stack.merchant_id, stack.shop_id, full=True)
        stack.settle()
        yield stack


def widget_event(stack: Stack, customer_id: UUID, state: ConsentState) -> ConsentEvent:
    return ConsentEvent(
        merchant_id=stack.merchant_id,
        customer_id=customer_id,
        channel=Channel.EMAIL,
        state=state,
        opt_in_level=OptInLevel.CONFIRMED
        if state is ConsentState.SUBSCRIBED
        else OptInLevel.SINGLE,
        source=ConsentSource(SourceKind.WIDGET),
        occurred_at=datetime.now(UTC),
        evidence=Evidence(touchpoint="preference_link", ip="203.0.113.7", actor="shopper"),
    )


def count(stack: Stack, table: sa.Table, **where: object) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with stack.runtime.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def emailable(stack: Stack, limit: int) -> list[tuple[int, UUID]]:
    """(shop id, core id) of customers with an email, in a stable order."""
    with stack.sim.state.lock:
        ids = sorted(c.id for c in stack.sim.state.customers.values() if c.email)[:limit]
    found = []
    for remote in ids:
        customer = stack.customer_by_remote(remote)
        assert customer is not None
        found.append((remote, customer.id))
    return found


def test_a_change_made_in_core_reaches_the_shop_and_its_echo_is_silent(stack: Stack) -> None:
    [(remote, customer_id)] = emailable(stack, 1)
    ledger_before = count(stack, tables.consent_events, customer_id=customer_id)
    event = widget_event(stack, customer_id, ConsentState.SUBSCRIBED)
    assert stack.runtime.sync.change_consent(event)
    stack.settle()

    with stack.sim.state.lock:
        consent = stack.sim.state.customers[remote].email_consent
    assert (consent.marketing_state, consent.opt_in_level) == ("SUBSCRIBED", "CONFIRMED_OPT_IN")
    assert consent.consent_updated_at == event.occurred_at
    # The shop echoed the change back (customers/update + the consent topic): applied, and
    # it added no fact and queued no push.
    assert count(stack, inbox, status="applied") >= 2
    assert count(stack, tables.consent_events, customer_id=customer_id) == ledger_before + 1
    assert count(stack, outbox) == 1
    assert differences(stack) == []


def test_every_push_lands_under_hard_throttling_and_fault_bursts(stack: Stack) -> None:
    targets = emailable(stack, 20)
    stack.sim.set_throttle(maximum_available=60, restore_rate=20)
    stack.sim.inject_faults(429, count=4, retry_after=0.3)
    stack.sim.inject_faults(503, count=3)
    stack.sim.inject_faults(500, count=2)
    before = stack.sim.stats()["api"]
    changed = 0
    for index, (_, customer_id) in enumerate(targets):
        state = ConsentState.UNSUBSCRIBED if index % 2 else ConsentState.SUBSCRIBED
        changed += stack.runtime.sync.change_consent(widget_event(stack, customer_id, state))
    stack.settle(timeout=120)

    assert changed >= 15  # most targets really changed (some already held that consent)
    assert count(stack, outbox) == count(stack, outbox, status="sent") == changed
    assert differences(stack) == []
    api = stack.sim.stats()["api"]
    assert api["limit_violations"] == before["limit_violations"] == 0
    served = api["faults_served"]
    assert (served.get("429"), served.get("503"), served.get("500")) == (4, 3, 2)


def test_privacy_webhooks_need_a_valid_signature_and_erase_the_person(stack: Stack) -> None:
    [(remote, customer_id)] = emailable(stack, 1)
    url = f"{stack.url}/webhooks/shopify"
    body = b'{"shop_id":1,"shop_domain":"%s"}' % stack.sim.shop_domain.encode()
    headers = {
        "X-Shopify-Topic": "shop/redact",
        "X-Shopify-Shop-Domain": stack.sim.shop_domain,
        "X-Shopify-Webhook-Id": "forged-1",
        "X-Shopify-Event-Id": "forged-1",
        "X-Shopify-Hmac-Sha256": sign(body, "not-the-app-secret"),
        "Content-Type": "application/json",
    }
    assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 401
    assert count(stack, inbox, delivery_key="shop/redact:forged-1") == 0

    stack.sim.actions.redact_customer(remote)
    stack.settle()
    with stack.runtime.unit_of_work(read_only=True) as uow:
        tenant = uow.tenant(stack.merchant_id)
        customer = tenant.customers.get(customer_id)
        assert customer.redacted and (customer.email, customer.phone, customer.first_name) == (
            None,
            None,
            None,
        )
        [request] = tenant.audit.privacy_requests()
        assert request.kind is PrivacyRequestKind.REDACT_CUSTOMER
        assert request.customer_id == customer_id and request.completed_at is not None
