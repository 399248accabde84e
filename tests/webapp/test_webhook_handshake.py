"""The webhook endpoint with a platform that pings on subscription (WooCommerce): the ping is
answered 200 and stores nothing; real deliveries go through verification and the inbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from patronkit.adapters.woocommerce.gateway import WooCommerceGateway
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.domain.consent import Channel, ConsentState
from patronkit.core.domain.merchant import Merchant, ShopConnection
from patronkit.sync.tables import inbox
from patronkit.webapp import create_app
from tests.adapters.woocommerce.test_mapping import consent_entry, customer_payload
from tests.sync.fakes import FakeGateway

SITE = "https://shop.example.com"
SECRET = "per-shop-webhook-secret"


@pytest.fixture
def runtime(settings: Settings, clean_db: object) -> Iterator[Runtime]:
    gateways = {"woocommerce": WooCommerceGateway(), "teststore": FakeGateway()}
    run = build_runtime(settings, gateways=gateways, immediate=True)
    merchant = Merchant(name="Woo")
    with run.unit_of_work() as uow:
        uow.merchants.add(merchant)
        shop = ShopConnection(
            merchant_id=merchant.id, platform="woocommerce", domain=SITE, api_url=SITE
        )
        shop.store_credentials(
            run.sealer,
            {"consumer_key": "ck_x", "consumer_secret": "cs_x", "webhook_secret": SECRET},
        )
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


def delivery(payload: dict[str, object], topic: str = "customer.updated") -> tuple[bytes, dict]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": f"{SITE}/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".", maxsplit=1)[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": signature.decode(),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": "same-second-same-id",
    }


def test_the_creation_ping_is_answered_and_stores_nothing(
    client: FlaskClient, runtime: Runtime
) -> None:
    response = client.post(
        "/webhooks/woocommerce",
        data=b"webhook_id=7",
        headers={"User-Agent": "WooCommerce/9.0 Hookshot (WordPress/6.5)"},
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    assert inbox_count(runtime) == 0


@pytest.mark.parametrize(
    ("platform", "body"),
    [
        ("woocommerce", b'{"id":25}'),  # no headers and not a ping
        ("woocommerce", b"webhook_id=7&id=25"),
        ("teststore", b"webhook_id=7"),  # a platform without handshakes
    ],
)
def test_anything_else_without_headers_is_still_refused(
    client: FlaskClient, runtime: Runtime, platform: str, body: bytes
) -> None:
    response = client.post(f"/webhooks/{platform}", data=body)
    assert response.status_code == 400
    assert inbox_count(runtime) == 0


def test_a_signed_delivery_is_stored_and_applied_once(
    client: FlaskClient, runtime: Runtime
) -> None:
    meta = [consent_entry("email", "subscribed", "2026-08-01T09:00:00Z")]
    body, headers = delivery(customer_payload(meta_data=meta))
    first = client.post("/webhooks/woocommerce", data=body, headers=headers)
    assert (first.status_code, first.get_json()) == (200, {"status": "accepted"})
    again = client.post("/webhooks/woocommerce", data=body, headers=headers)
    assert (again.status_code, again.get_json()) == (200, {"status": "duplicate"})
    # Another state in the same second carries the same Delivery-ID and is still new.
    other_body, other_headers = delivery(customer_payload(meta_data=meta, first_name="Johnny"))
    assert other_headers["X-WC-Webhook-Delivery-ID"] == headers["X-WC-Webhook-Delivery-ID"]
    other = client.post("/webhooks/woocommerce", data=other_body, headers=other_headers)
    assert other.get_json() == {"status": "accepted"}
    assert inbox_count(runtime) == 2
    with runtime.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain("woocommerce", SITE)
        assert shop is not None
        customer = uow.tenant(shop.merchant_id).customers.by_email("john.doe@example.com")
        assert customer is not None and customer.link_for(shop.id) is not None
        status = customer.consent(Channel.EMAIL)
        assert status is not None and status.state is ConsentState.SUBSCRIBED


def test_a_bad_signature_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    body, headers = delivery(customer_payload())
    response = client.post("/webhooks/woocommerce", data=body + b" ", headers=headers)
    assert response.status_code == 401
    assert inbox_count(runtime) == 0
