""" "Link to merchant": an admin of a connected store asks for an install URL that connects
another store (any platform) to the same merchant.

The admin proves themselves as for the embedded admin pages (here: a Shopify session token
from the simulator); the store to add is the fake platform, whose install is a plain browser
redirect. The WooCommerce (server-posted) variant runs end to end in
tests/e2e/test_cross_platform.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import pytest
from flask.testing import FlaskClient

from patronkit.adapters.shopify.gateway import ShopifyAppConfig, ShopifyGateway
from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.webapp import create_app
from tests.sync.fakes import FakeGateway

SCOPES = ("read_customers", "write_customers", "read_orders")


@pytest.fixture
def sim() -> Iterator[ShopifySimulator]:
    with running_simulator(customers=1, seed=5) as sim:
        yield sim


@pytest.fixture
def runtime(settings: Settings, clean_db: object, sim: ShopifySimulator) -> Iterator[Runtime]:
    config = ShopifyAppConfig(
        sim.client_id, sim.client_secret, SCOPES, api_base_override={sim.shop_domain: sim.url}
    )
    shopify = ShopifyGateway(config)
    run = build_runtime(
        settings, gateways={"shopify": shopify, "teststore": FakeGateway()}, immediate=True
    )
    yield run
    run.close()
    shopify.close()


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()


@pytest.fixture
def admin(client: FlaskClient, sim: ShopifySimulator) -> dict[str, str]:
    """The Shopify store installed; headers proving one of its staff, and their merchant."""
    installed = client.post(
        "/install/shopify/session", headers={"Authorization": f"Bearer {sim.mint_session_token()}"}
    )
    assert installed.status_code == 200, installed.get_json()
    return {
        "Authorization": f"Bearer {sim.mint_session_token()}",
        "merchant_id": installed.get_json()["merchant_id"],
    }


def ask_link(client: FlaskClient, admin: dict[str, str], shop: str) -> str:
    response = client.post(
        "/install/teststore/link",
        json={"shop": shop},
        headers={"Authorization": admin["Authorization"]},
    )
    assert response.status_code == 200, response.get_json()
    url: str = response.get_json()["install_url"]
    return url


def install(client: FlaskClient, begin_url: str, shop: str) -> tuple[int, dict[str, str]]:
    """Begin at `begin_url`, then the store sends the browser back to our callback."""
    parts = urlsplit(begin_url)
    begun = client.get(f"{parts.path}?{parts.query}")
    if begun.status_code != 302:
        return begun.status_code, begun.get_json()
    state = parse_qs(urlsplit(begun.headers["Location"]).query)["state"][0]
    done = client.get(f"/install/teststore/callback?{urlencode({'shop': shop, 'state': state})}")
    return done.status_code, done.get_json() or {}


def owner(runtime: Runtime, domain: str) -> UUID | None:
    with runtime.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain("teststore", domain)
    return shop.merchant_id if shop else None


def test_a_linked_install_joins_the_admins_merchant(
    client: FlaskClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    url = ask_link(client, admin, "B.Example/")
    assert url.startswith(f"{runtime.settings.public_url}/install/teststore?shop=b.example&link=")

    status, _ = install(client, url, "b.example")

    assert status == 302
    assert owner(runtime, "b.example") == UUID(admin["merchant_id"])


def test_without_a_link_a_first_install_starts_a_new_merchant(
    client: FlaskClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    status, _ = install(client, "/install/teststore?shop=b.example", "b.example")
    assert status == 302
    assert owner(runtime, "b.example") not in (None, UUID(admin["merchant_id"]))


def test_only_an_authenticated_admin_gets_a_link(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = client.post(
            "/install/teststore/link", json={"shop": "b.example"}, headers=headers
        )
        assert response.status_code == 401
    # A form field is no substitute for the header (a cross-site form could send one).
    form = client.post("/install/teststore/link", data={"shop": "b.example", "pk_session": "x"})
    assert form.status_code == 401


def for_another_store(url: str) -> str:
    return url.replace("shop=b.example", "shop=c.example")


def forged(url: str) -> str:
    return url + "x"  # the link is the last parameter: its signature no longer matches


def for_another_platform(url: str) -> str:
    return url.replace("/install/teststore?", "/install/shopify?")


@pytest.mark.parametrize("tamper", [for_another_store, forged, for_another_platform])
def test_a_link_works_only_as_issued(
    client: FlaskClient, runtime: Runtime, admin: dict[str, str], tamper: Callable[[str], str]
) -> None:
    status, body = install(client, tamper(ask_link(client, admin, "b.example")), "c.example")
    assert status == 401, body
    assert owner(runtime, "b.example") is None and owner(runtime, "c.example") is None


def test_a_store_of_another_merchant_is_not_moved(
    client: FlaskClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    install(client, "/install/teststore?shop=b.example", "b.example")
    before = owner(runtime, "b.example")

    status, body = install(client, ask_link(client, admin, "b.example"), "b.example")

    assert status == 409, body
    assert owner(runtime, "b.example") == before != UUID(admin["merchant_id"])
