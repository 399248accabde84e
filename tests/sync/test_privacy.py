"""Privacy webhooks through sync: erase, record, and keep no personal data in the inbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from patronkit.core.domain.privacy import PrivacyRequestKind
from patronkit.sync.inbox import Delivery
from patronkit.sync.tables import inbox
from tests.sync.conftest import World
from tests.sync.fakes import customer_payload

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def send(world: World, key: str, topic: str, payload: dict[str, object], shop: str = "a") -> None:
    target = world.shop_a if shop == "a" else world.shop_b
    world.engine.receive(
        Delivery(shop=target, delivery_key=key, topic=topic, body=json.dumps(payload).encode())
    )


def test_customer_redact_erases_and_records(world: World) -> None:
    send(
        world,
        "1",
        "customer",
        customer_payload("a1", T0, email="ana@example.com", first_name="Ana"),
    )
    send(world, "2", "redact_customer", {"id": "a1", "email": "ana@example.com", "request": "dr-1"})
    with world.uow() as uow:
        tenant = uow.tenant(world.merchant.id)
        assert tenant.customers.by_email("ana@example.com") is None
        [request] = tenant.audit.privacy_requests()
        assert request.kind is PrivacyRequestKind.REDACT_CUSTOMER
        assert request.completed_at is not None and request.reference == "dr-1"
        customer = tenant.customers.get(request.customer_id)  # type: ignore[arg-type]
        assert customer.redacted and customer.first_name is None
        bodies = list(uow.connection.scalars(sa.select(inbox.c.body)))
    assert bodies == [b"", b""]  # applied deliveries keep no personal data


def test_data_request_is_recorded_open_for_the_merchant(world: World) -> None:
    send(world, "1", "customer", customer_payload("a1", T0, email="ana@example.com"))
    send(world, "2", "data_request", {"id": "a1", "request": "dr-2"})
    with world.uow() as uow:
        [request] = uow.tenant(world.merchant.id).audit.privacy_requests()
        assert request.kind is PrivacyRequestKind.DATA_REQUEST and request.completed_at is None
        assert request.customer_id is not None


def test_shop_redact_forgets_that_store_only(world: World) -> None:
    send(world, "1", "customer", customer_payload("a1", T0, email="both@example.com"))
    send(world, "2", "customer", customer_payload("b1", T0, email="both@example.com"), shop="b")
    send(world, "3", "customer", customer_payload("a2", T0, email="only-a@example.com"))
    send(world, "4", "redact_shop", {})
    with world.uow() as uow:
        tenant = uow.tenant(world.merchant.id)
        both = tenant.customers.by_email("both@example.com")
        assert both is not None and [link.remote_id for link in both.links] == ["b1"]
        assert tenant.customers.by_email("only-a@example.com") is None
        [request] = tenant.audit.privacy_requests()
        assert request.outcome == {"orders_deleted": 0, "links_removed": 2, "customers_erased": 1}


def test_a_store_deleting_its_customer_only_unlinks(world: World) -> None:
    send(world, "1", "customer", customer_payload("a1", T0, email="ana@example.com"))
    send(world, "2", "customer_deleted", {"id": "a1"})
    with world.uow() as uow:
        customer = uow.tenant(world.merchant.id).customers.by_email("ana@example.com")
        assert customer is not None and customer.links == []
