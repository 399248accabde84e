"""The webhook endpoint: verify on raw bytes, store once, answer at once; bad input is a 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.sync.tables import inbox
from patronkit.webapp import create_app
from tests.sync.fakes import SECRET, FakeGateway, customer_payload, webhook

T0 = datetime(2026, 8, 1, tzinfo=UTC)


@pytest.fixture
def runtime(settings: Settings, clean_db: object) -> Iterator[Runtime]:
    run = build_runtime(settings, gateways={"teststore": FakeGateway()}, immediate=True)
    merchant = Merchant(name="Hooked")
    with run.unit_of_work() as uow:
        uow.merchants.add(merchant)
        shop = ShopConnection(merchant_id=merchant.id, platform="teststore", domain="a.example")
        shop.store_credentials(run.sealer, {"webhook_secret": SECRET})
        uow.tenant(merchant.id).shops.add(shop)
        uow.commit()
    yield run
    run.close()


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()


def inbox_count(runtime: Runtime) -> int:
    with runtime.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(inbox)).scalar_one()


def test_a_signed_delivery_is_stored_applied_and_acknowledged(
    client: FlaskClient, runtime: Runtime
) -> None:
    body, headers = webhook(
        "a.example", "customer", "e1", customer_payload("1", T0, email="z@example.com")
    )
    response = client.post("/webhooks/teststore", data=body, headers=headers)
    assert (response.status_code, response.get_json()) == (200, {"status": "accepted"})
    again = client.post("/webhooks/teststore", data=body, headers=headers)
    assert (again.status_code, again.get_json()) == (200, {"status": "duplicate"})
    assert inbox_count(runtime) == 1
    with runtime.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain("teststore", "a.example")
        assert shop is not None
        assert uow.tenant(shop.merchant_id).customers.by_email("z@example.com") is not None


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda body, headers: (body + b" ", headers), 401),  # body changed after signing
        (lambda body, headers: (body, {**headers, "X-Test-Signature": "0" * 64}), 401),
        (
            lambda body, headers: (body, {k: v for k, v in headers.items() if k != "X-Test-Topic"}),
            400,
        ),
        (lambda body, headers: (body, {**headers, "X-Test-Shop": "nobody.example"}), 404),
    ],
    ids=["tampered-body", "bad-signature", "missing-header", "unknown-shop"],
)
def test_bad_deliveries_are_refused_and_change_nothing(
    client: FlaskClient, runtime: Runtime, mutate: object, status: int
) -> None:
    body, headers = webhook(
        "a.example", "customer", "e1", customer_payload("1", T0, email="z@example.com")
    )
    body, headers = mutate(body, headers)  # type: ignore[operator]
    response = client.post("/webhooks/teststore", data=body, headers=headers)
    assert response.status_code == status
    assert inbox_count(runtime) == 0


def test_oversized_and_unknown_platform_are_refused(client: FlaskClient, runtime: Runtime) -> None:
    big = json.dumps({"id": "1", "pad": "x" * (1024 * 1024)}).encode()
    _, headers = webhook("a.example", "customer", "e1", {})
    assert client.post("/webhooks/teststore", data=big, headers=headers).status_code == 413
    assert client.post("/webhooks/nonesuch", data=b"{}", headers=headers).status_code == 404
    assert inbox_count(runtime) == 0


def test_the_scheduled_reconcile_reads_every_active_shop(runtime: Runtime) -> None:
    """The periodic task as the worker runs it: it heals a change no webhook told us about."""
    from patronkit.core.storefront import RemoteCustomer

    gateway = runtime.gateways["teststore"]
    assert isinstance(gateway, FakeGateway)
    gateway.customers_in_store["a.example"] = [
        RemoteCustomer(remote_id="r9", updated_at=T0, email="missed@example.com")
    ]
    [task] = [t for t in runtime.huey._registry.periodic_tasks if t.name == "sync.reconcile_all"]
    runtime.huey.execute(task)
    with runtime.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain("teststore", "a.example")
        assert shop is not None
        customer = uow.tenant(shop.merchant_id).customers.by_email("missed@example.com")
        assert customer is not None and customer.link_for(shop.id) is not None
        assert "customers" in uow.tenant(shop.merchant_id).shops.get(shop.id).cursors
