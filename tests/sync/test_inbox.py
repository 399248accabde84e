"""Inbound: accept once, apply once, in one transaction with the outbox rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.sync.inbox import Delivery, Status
from patronkit.sync.tables import inbox, outbox
from tests.sync.conftest import World
from tests.sync.fakes import customer_payload

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def deliver(
    world: World,
    key: str,
    payload: dict[str, object],
    *,
    shop: str = "a",
    topic: str = "customer",
) -> bool:
    import json

    target = world.shop_a if shop == "a" else world.shop_b
    return world.engine.receive(
        Delivery(shop=target, delivery_key=key, topic=topic, body=json.dumps(payload).encode())
    )


def rows(world: World, table: sa.Table) -> list[sa.Row[object]]:  # type: ignore[type-var]
    with world.uow() as uow:
        return list(uow.connection.execute(sa.select(table)))


def test_a_redelivery_is_a_no_op(world: World) -> None:
    payload = customer_payload(
        "1", T0, email="ana@example.com", consent=("subscribed", "single", T0)
    )
    assert deliver(world, "evt-1", payload) is True
    assert deliver(world, "evt-1", payload) is False
    [row] = rows(world, inbox)
    assert row.status == Status.APPLIED and row.attempts == 1
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None and len(customer.consent_events) == 1
        status = customer.consent(Channel.EMAIL)
        assert status is not None and status.state is ConsentState.SUBSCRIBED


def test_the_same_fact_under_two_delivery_ids_is_one_ledger_row(world: World) -> None:
    payload = customer_payload(
        "1", T0, email="ana@example.com", consent=("subscribed", "single", T0)
    )
    deliver(world, "evt-1", payload)
    deliver(world, "evt-2", payload)
    assert len(rows(world, inbox)) == 2
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None and len(customer.consent_events) == 1


def test_consent_from_one_store_is_pushed_to_the_other_only(world: World) -> None:
    # The customer exists in both stores.
    deliver(world, "a-1", customer_payload("a1", T0, email="ana@example.com"))
    deliver(world, "b-1", customer_payload("b1", T0, email="ana@example.com"), shop="b")
    assert world.gateway.pushes == []
    withdraw = customer_payload(
        "a1",
        T0 + timedelta(minutes=5),
        email="ana@example.com",
        consent=("unsubscribed", "single", T0 + timedelta(minutes=5)),
    )
    deliver(world, "a-2", withdraw)
    [(domain, push)] = world.gateway.pushes
    assert domain == "b.example" and push.customer_remote_id == "b1"
    assert (push.channel, push.state, push.opt_in_level) == (
        Channel.EMAIL,
        ConsentState.UNSUBSCRIBED,
        OptInLevel.SINGLE,
    )
    assert push.occurred_at == T0 + timedelta(minutes=5)
    [row] = rows(world, outbox)
    assert row.status == "sent" and row.outcome == "applied"


def test_the_echo_of_a_push_changes_nothing_and_pushes_nothing(world: World) -> None:
    deliver(world, "a-1", customer_payload("a1", T0, email="ana@example.com"))
    deliver(world, "b-1", customer_payload("b1", T0, email="ana@example.com"), shop="b")
    at = T0 + timedelta(minutes=5)
    deliver(
        world,
        "a-2",
        customer_payload(
            "a1", at, email="ana@example.com", consent=("subscribed", "confirmed", at)
        ),
    )
    assert len(world.gateway.pushes) == 1
    # Store B now echoes the consent we pushed, with our timestamp.
    deliver(
        world,
        "b-2",
        customer_payload(
            "b1",
            at + timedelta(seconds=1),
            email="ana@example.com",
            consent=("subscribed", "confirmed", at),
        ),
        shop="b",
    )
    assert len(world.gateway.pushes) == 1
    assert len(rows(world, outbox)) == 1
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None and len(customer.consent_events) == 1


def test_a_stale_report_is_corrected_in_the_store_that_sent_it(world: World) -> None:
    late = T0 + timedelta(hours=1)
    deliver(
        world,
        "a-1",
        customer_payload(
            "a1", late, email="ana@example.com", consent=("unsubscribed", "single", late)
        ),
    )
    # Store B reports an older subscription for the same person (say, a day-late webhook).
    deliver(
        world,
        "b-1",
        customer_payload("b1", T0, email="ana@example.com", consent=("subscribed", "single", T0)),
        shop="b",
    )
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None
        status = customer.consent(Channel.EMAIL)
        assert status is not None and status.state is ConsentState.UNSUBSCRIBED
        assert len(customer.consent_events) == 2  # the stale fact is kept
    [(domain, push)] = world.gateway.pushes
    assert domain == "b.example" and push.state is ConsentState.UNSUBSCRIBED


def test_a_store_that_newly_has_a_known_person_receives_cores_consent(world: World) -> None:
    deliver(
        world,
        "a-1",
        customer_payload("a1", T0, email="ana@example.com", consent=("subscribed", "single", T0)),
    )
    assert world.gateway.pushes == []  # store b does not know her yet

    # She opens an account in store b, which says nothing about her consent.
    deliver(world, "b-1", customer_payload("b1", T0, email="ana@example.com"), shop="b")
    [(domain, push)] = world.gateway.pushes
    assert (domain, push.customer_remote_id) == ("b.example", "b1")
    assert (push.state, push.occurred_at) == (ConsentState.SUBSCRIBED, T0)

    # Later reports from b about her, still silent on consent, push nothing more.
    deliver(
        world,
        "b-2",
        customer_payload("b1", T0 + timedelta(minutes=1), email="ana@example.com"),
        shop="b",
    )
    assert len(world.gateway.pushes) == 1


def test_an_unreadable_payload_is_kept_as_failed_and_changes_nothing(world: World) -> None:
    from patronkit.sync.inbox import Delivery

    world.engine.receive(
        Delivery(shop=world.shop_a, delivery_key="bad", topic="customer", body=b'{"no id": true}')
    )
    world.engine.receive(
        Delivery(shop=world.shop_a, delivery_key="worse", topic="customer", body=b"{not json")
    )
    statuses = sorted(
        (row.delivery_key, row.status, (row.error or "")[:12]) for row in rows(world, inbox)
    )
    assert statuses == [("bad", "failed", "ValueError: "), ("worse", "failed", "JSONDecodeEr")]
    with world.uow() as uow:
        assert uow.tenant(world.merchant.id).customers.count() == 0


def test_uninstall_marks_the_shop_and_stops_pushes_to_it(world: World) -> None:
    import json

    deliver(world, "a-1", customer_payload("a1", T0, email="ana@example.com"))
    deliver(world, "b-1", customer_payload("b1", T0, email="ana@example.com"), shop="b")
    world.engine.receive(
        Delivery(
            shop=world.shop_b, delivery_key="u", topic="uninstalled", body=json.dumps({}).encode()
        )
    )
    at = T0 + timedelta(minutes=1)
    deliver(
        world,
        "a-2",
        customer_payload("a1", at, email="ana@example.com", consent=("subscribed", "single", at)),
    )
    assert world.gateway.pushes == []
    with world.uow() as uow:
        shop = uow.tenant(world.merchant.id).shops.get(world.shop_b.id)
        assert not shop.active and shop.sealed_credentials is None


def test_an_order_that_arrives_before_its_buyer_is_attached_when_the_buyer_does(
    world: World,
) -> None:
    import json

    order = {"id": "o1", "customer_id": "a9", "total": "42.50", "updated_at": T0.isoformat()}
    world.engine.receive(
        Delivery(
            shop=world.shop_a, delivery_key="o", topic="order", body=json.dumps(order).encode()
        )
    )
    deliver(world, "c", customer_payload("a9", T0, email="late@example.com"))
    with world.uow() as uow:
        tenant = uow.tenant(world.merchant.id)
        customer = tenant.customers.by_email("late@example.com")
        assert customer is not None
        [stored] = tenant.orders.for_customer(customer.id)
        assert stored.remote_id == "o1" and str(stored.total) == "42.5"


# -- records a store deleted --------------------------------------------------------------------


def test_a_late_report_of_a_record_the_store_deleted_does_not_link_it_again(world: World) -> None:
    deliver(world, "a-1", customer_payload("a1", T0, email="ana@example.com"))
    deliver(world, "a-del", {"id": "a1"}, topic="customer_deleted")
    # An update sent before the deletion, delivered after it (Shopify does not keep order).
    late = customer_payload(
        "a1",
        T0 + timedelta(minutes=1),
        email="ana@example.com",
        consent=("subscribed", "single", T0 + timedelta(minutes=1)),
    )
    deliver(world, "a-2", late)
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None  # the person stays in core
        assert customer.links == []  # the deleted record is not linked again
        assert customer.consent(Channel.EMAIL) is None  # nor does its stale report count
    assert world.gateway.pushes == []
    assert {row.status for row in rows(world, inbox)} == {Status.APPLIED}


def test_a_deletion_that_overtakes_the_creation_wins(world: World) -> None:
    deliver(world, "a-del", {"id": "a9"}, topic="customer_deleted")
    deliver(world, "a-1", customer_payload("a9", T0, email="bob@example.com"))
    with world.uow() as uow:
        assert uow.tenant(world.merchant.id).customers.by_email("bob@example.com") is None


def test_a_record_made_again_under_a_new_id_is_linked(world: World) -> None:
    deliver(world, "a-1", customer_payload("a1", T0, email="ana@example.com"))
    deliver(world, "a-del", {"id": "a1"}, topic="customer_deleted")
    deliver(world, "a-del-again", {"id": "a1"}, topic="customer_deleted")  # one record kept
    deliver(world, "a-2", customer_payload("a2", T0 + timedelta(hours=1), email="ana@example.com"))
    # The same id in another store is another record: not deleted there.
    deliver(world, "b-1", customer_payload("a1", T0, email="ana@example.com"), shop="b")
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None
        assert sorted((link.shop_id, link.remote_id) for link in customer.links) == sorted(
            [(world.shop_a.id, "a2"), (world.shop_b.id, "a1")]
        )
        deleted = uow.tenant(world.merchant.id).customers.deleted_in_store(
            world.shop_a.id, ["a1", "a2"]
        )
        assert deleted == {"a1"}
