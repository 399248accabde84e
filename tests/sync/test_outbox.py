"""Outbound: retries with backoff, give-up, skips, and the sweeper for lost jobs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from patronkit.sync import outbox as outbox_module
from patronkit.sync.inbox import Delivery
from patronkit.sync.tables import inbox, outbox
from tests.sync.conftest import World
from tests.sync.fakes import customer_payload

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def _link_both(world: World) -> None:
    for shop, rid in ((world.shop_a, "a1"), (world.shop_b, "b1")):
        world.engine.receive(
            Delivery(
                shop=shop,
                delivery_key=f"{rid}-create",
                topic="customer",
                body=json.dumps(customer_payload(rid, T0, email="ana@example.com")).encode(),
            )
        )


def _withdraw_in_a(world: World, key: str = "a-2") -> None:
    at = T0 + timedelta(minutes=5)
    payload = customer_payload(
        "a1", at, email="ana@example.com", consent=("unsubscribed", "single", at)
    )
    world.engine.receive(
        Delivery(
            shop=world.shop_a, delivery_key=key, topic="customer", body=json.dumps(payload).encode()
        )
    )


def _outbox(world: World) -> sa.Row[object]:  # type: ignore[type-var]
    with world.uow() as uow:
        return uow.connection.execute(sa.select(outbox)).one()


def test_an_unavailable_store_is_retried_later_then_sent(world: World) -> None:
    _link_both(world)
    world.gateway.failures_left = 2
    _withdraw_in_a(world)
    row = _outbox(world)
    assert (row.status, row.attempts, row.error) == ("pending", 1, "StoreUnavailable")
    [(row_id, retry_at)] = world.dispatcher.deferred
    assert retry_at > datetime.now(UTC)
    world.engine.run_push(row_id)  # the queue runs it when due
    world.engine.run_push(row_id)
    row = _outbox(world)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(world.gateway.pushes) == 1


def test_retries_give_up_and_mark_the_row_dead(world: World) -> None:
    _link_both(world)
    world.gateway.failures_left = outbox_module.MAX_ATTEMPTS + 5
    _withdraw_in_a(world)
    row_id = _outbox(world).id
    for _ in range(outbox_module.MAX_ATTEMPTS):
        world.engine.run_push(row_id)
    row = _outbox(world)
    assert row.status == "dead" and row.error.startswith("gave up after")
    assert world.gateway.pushes == []


def test_a_customer_the_store_lost_is_recorded_not_retried(world: World) -> None:
    _link_both(world)
    world.gateway.missing_customers.add("b1")
    _withdraw_in_a(world)
    row = _outbox(world)
    assert (row.status, row.outcome) == ("sent", "not_found")


def test_backoff_grows_and_is_capped() -> None:
    import random

    rng = random.Random(7)
    ceilings = [outbox_module.backoff(n, rng) for n in range(1, 30)]
    assert all(timedelta(seconds=1) <= d <= outbox_module.MAX_DELAY for d in ceilings)


def test_sweep_hands_out_lost_deliveries_and_due_pushes(world: World) -> None:
    """A worker killed after accept but before apply: the row waits, the sweeper finds it."""
    payload = customer_payload("a1", T0, email="ana@example.com")
    lost: list[object] = []
    world.dispatcher.apply_inbox = lost.append  # type: ignore[method-assign]  # the job is lost
    world.engine.receive(
        Delivery(
            shop=world.shop_a, delivery_key="k", topic="customer", body=json.dumps(payload).encode()
        )
    )
    assert len(lost) == 1
    assert world.engine.sweep() == (0, 0)  # too fresh to be called lost
    del world.dispatcher.apply_inbox  # back to running jobs
    world.engine.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
    assert world.engine.sweep() == (1, 0)
    with world.uow() as uow:
        assert uow.connection.execute(sa.select(inbox.c.status)).scalar_one() == "applied"
        assert uow.tenant(world.merchant.id).customers.count() == 1
    assert world.engine.sweep() == (0, 0)


def test_a_consent_decided_in_patronkit_reaches_every_linked_store(world: World) -> None:
    from patronkit.core.domain.consent import (
        Channel,
        ConsentEvent,
        ConsentSource,
        ConsentState,
        Evidence,
        OptInLevel,
        SourceKind,
    )

    _link_both(world)
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None
    at = datetime.now(UTC)
    withdrawal = ConsentEvent(
        merchant_id=world.merchant.id,
        customer_id=customer.id,
        channel=Channel.EMAIL,
        state=ConsentState.UNSUBSCRIBED,
        opt_in_level=OptInLevel.SINGLE,
        source=ConsentSource(SourceKind.WIDGET),
        occurred_at=at,
        evidence=Evidence(touchpoint="preference_link", ip="192.0.2.1", actor="shopper"),
    )
    assert world.engine.change_consent(withdrawal) is True
    assert sorted((domain, push.customer_remote_id) for domain, push in world.gateway.pushes) == [
        ("a.example", "a1"),
        ("b.example", "b1"),
    ]
    assert all(push.state is ConsentState.UNSUBSCRIBED for _, push in world.gateway.pushes)
    # Saying it again changes nothing and pushes nothing.
    assert world.engine.change_consent(withdrawal) is False
    assert len(world.gateway.pushes) == 2
