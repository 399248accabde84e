"""Installs whose credentials the platform's server POSTs to us (InstallFlow.SERVER_POST),
through the WooCommerce gateway with `responses` standing in for the store.

The post comes without the merchant's browser, so without our cookie: the state travels
signed in the platform's round trip. Every refused post must answer 4xx and leave the
merchants and shop_connections tables as they were.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import itsdangerous
import pytest
import responses
import sqlalchemy as sa
from flask.testing import FlaskClient

from patronkit.adapters.woocommerce.gateway import WooCommerceGateway
from patronkit.adapters.woocommerce.webhooks import SUBSCRIBED_TOPICS
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.store import tables
from patronkit.webapp import create_app
from patronkit.webapp.install import POSTED_STATE_SALT, STATE_MAX_AGE_SECONDS, STATE_SALT
from tests.sync.fakes import FakeGateway

SITE = "https://shop.example.com"
API = f"{SITE}/wp-json/wc/v3"
KEY, SECRET = "ck_" + "4" * 40, "cs_" + "5" * 40


@pytest.fixture
def runtime(settings: Settings, clean_db: object) -> Iterator[Runtime]:
    gateway = WooCommerceGateway(sleep=lambda _: None, rng=random.Random(1))
    run = build_runtime(
        settings, gateways={"woocommerce": gateway, "teststore": FakeGateway()}, immediate=True
    )
    yield run
    run.close()


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    return create_app(runtime=runtime).test_client()


@pytest.fixture
def store() -> Iterator[responses.RequestsMock]:
    """The store's REST API: keys check out, no webhooks yet, creations accepted."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/webhooks", json=[], headers={"X-WP-TotalPages": "0"})
        mock.post(f"{API}/webhooks", status=201, json={"id": 1})
        yield mock


def counts(run: Runtime) -> tuple[int, int]:
    with run.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (tables.merchants, tables.shop_connections)
        )


def begin(client: FlaskClient, shop: str = "Shop.Example.com/") -> dict[str, str]:
    """Start an install; the authorize URL's parameters (user_id is our signed state)."""
    response = client.get(f"/install/woocommerce?shop={shop}")
    assert response.status_code == 302, response.get_json()
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{SITE}/wc-auth/v1/authorize"
    )
    assert "Set-Cookie" not in response.headers  # nothing rides on the browser
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def keys_body(state: str, **changes: Any) -> dict[str, Any]:
    """What WooCommerce posts (WC_Auth::create_keys)."""
    body = {
        "key_id": 1,
        "user_id": state,
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "key_permissions": "read_write",
    }
    body.update(changes)
    return body


def stored(run: Runtime) -> ShopConnection | None:
    with run.unit_of_work(read_only=True) as uow:
        return uow.merchants.shop_by_domain("woocommerce", SITE)


# -- the happy path ------------------------------------------------------------------------------


def test_posted_keys_connect_the_store_and_the_browser_lands_on_admin(
    client: FlaskClient, runtime: Runtime, store: responses.RequestsMock
) -> None:
    authorize = begin(client)
    public_url = runtime.settings.public_url
    assert authorize["callback_url"] == f"{public_url}/install/woocommerce/callback"

    response = client.post("/install/woocommerce/callback", json=keys_body(authorize["user_id"]))

    assert response.status_code == 200  # WooCommerce needs exactly 200
    assert response.get_json() == {"status": "installed", "shop": SITE, "webhooks": "registered"}
    shop = stored(runtime)
    assert shop is not None and shop.active
    assert (shop.platform, shop.domain, shop.api_url) == ("woocommerce", SITE, SITE)
    assert shop.sealed_credentials is not None
    assert KEY.encode() not in shop.sealed_credentials  # encrypted at rest
    assert SECRET.encode() not in shop.sealed_credentials
    credentials = shop.credentials(runtime.sealer)
    assert (credentials["consumer_key"], credentials["consumer_secret"]) == (KEY, SECRET)
    assert len(credentials["webhook_secret"]) >= 40

    # The keys were checked against the store before anything was stored, with them.
    check = store.calls[0].request
    assert (check.method, urlsplit(check.url).path) == ("GET", "/wp-json/wc/v3/webhooks")
    created = [json.loads(c.request.body) for c in store.calls if c.request.method == "POST"]
    assert sorted(body["topic"] for body in created) == sorted(SUBSCRIBED_TOPICS)
    assert {body["delivery_url"] for body in created} == {f"{public_url}/webhooks/woocommerce"}
    assert {body["secret"] for body in created} == {credentials["webhook_secret"]}

    # WooCommerce then sends the browser to return_url (with success and user_id added).
    landing = client.get(f"{authorize['return_url']}&success=1&user_id=x")
    assert landing.status_code == 302
    assert landing.headers["Location"] == (
        f"{public_url}/admin?platform=woocommerce&shop=https%3A%2F%2Fshop.example.com"
    )
    assert counts(runtime) == (1, 1)


def test_a_reinstall_replaces_the_keys_of_the_same_connection(
    client: FlaskClient, runtime: Runtime, store: responses.RequestsMock
) -> None:
    first = begin(client)["user_id"]
    assert client.post("/install/woocommerce/callback", json=keys_body(first)).status_code == 200
    before = stored(runtime)
    again = begin(client)["user_id"]
    new_key = "ck_" + "9" * 40
    body = keys_body(again, consumer_key=new_key)
    assert client.post("/install/woocommerce/callback", json=body).status_code == 200
    after = stored(runtime)
    assert before is not None and after is not None and after.id == before.id
    assert after.credentials(runtime.sealer)["consumer_key"] == new_key
    assert counts(runtime) == (1, 1)


def test_a_webhook_registration_failure_leaves_the_install_standing(
    client: FlaskClient, runtime: Runtime
) -> None:
    state = begin(client)["user_id"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/webhooks", json=[], headers={"X-WP-TotalPages": "0"})
        mock.post(f"{API}/webhooks", status=500)
        response = client.post("/install/woocommerce/callback", json=keys_body(state))
    assert response.status_code == 200
    assert response.get_json()["webhooks"] == "pending"
    assert counts(runtime) == (1, 1)


# -- refused posts -------------------------------------------------------------------------------


def _expired_state(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> str:
    issued = int(time.time()) - STATE_MAX_AGE_SECONDS - 5
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda _self: issued)
        return begin(client)["user_id"]


def _signed(client: FlaskClient, salt: str, value: object) -> str:
    with client.application.app_context():
        from patronkit.webapp.signing import sign

        return sign(salt, value)


@pytest.mark.parametrize(
    "make_state",
    [
        lambda client, patch: "",
        lambda client, patch: "not-a-signed-value",
        lambda client, patch: begin(client)["user_id"][:-2] + "xx",  # tampered
        _expired_state,
        lambda client, patch: itsdangerous.URLSafeTimedSerializer(
            "guessed-key", salt=POSTED_STATE_SALT
        ).dumps({"platform": "woocommerce", "shop": SITE, "nonce": "n"}),
        # Right key, wrong purpose: the cookie flow's salt.
        lambda client, patch: _signed(
            client, STATE_SALT, {"platform": "woocommerce", "shop": SITE}
        ),
        # Right key and salt, another platform.
        lambda client, patch: _signed(
            client, POSTED_STATE_SALT, {"platform": "teststore", "shop": SITE, "nonce": "n"}
        ),
    ],
    ids=["empty", "garbage", "tampered", "expired", "forged", "other-salt", "other-platform"],
)
def test_a_bad_state_is_refused_and_creates_nothing(
    client: FlaskClient,
    runtime: Runtime,
    store: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
    make_state: Any,
) -> None:
    state = make_state(client, monkeypatch)
    response = client.post("/install/woocommerce/callback", json=keys_body(state))
    assert response.status_code == 401
    assert counts(runtime) == (0, 0)
    assert not [c for c in store.calls]  # the store was not even asked


def test_a_missing_state_is_refused(
    client: FlaskClient, runtime: Runtime, store: responses.RequestsMock
) -> None:
    body = keys_body("x")
    del body["user_id"]
    assert client.post("/install/woocommerce/callback", json=body).status_code == 401
    assert counts(runtime) == (0, 0)


@pytest.mark.parametrize(
    "send",
    [
        lambda client, state: client.post("/install/woocommerce/callback", data=b"not json"),
        lambda client, state: client.post(
            "/install/woocommerce/callback", data=b"{", content_type="application/json"
        ),
        lambda client, state: client.post("/install/woocommerce/callback", json=[state]),
        lambda client, state: client.post(
            "/install/woocommerce/callback", json=keys_body(state, consumer_key={"a": 1})
        ),
        lambda client, state: client.post(
            "/install/woocommerce/callback", json=keys_body(state, consumer_secret="cs_short")
        ),
        lambda client, state: client.post(
            "/install/woocommerce/callback", json=keys_body(state, key_permissions="read")
        ),
        lambda client, state: client.post(
            "/install/woocommerce/callback", json=keys_body(state, consumer_key="x" * 5000)
        ),
    ],
    ids=["not-json", "broken-json", "array", "nested", "bad-secret", "read-only", "oversized"],
)
def test_a_bad_body_is_refused_and_creates_nothing(
    client: FlaskClient, runtime: Runtime, store: responses.RequestsMock, send: Any
) -> None:
    state = begin(client)["user_id"]
    response = send(client, state)
    assert 400 <= response.status_code < 500
    assert counts(runtime) == (0, 0)


def test_keys_the_store_refuses_are_refused_and_create_nothing(
    client: FlaskClient, runtime: Runtime
) -> None:
    state = begin(client)["user_id"]
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/webhooks", status=401, json={"code": "woocommerce_rest_cannot_view"})
        response = client.post("/install/woocommerce/callback", json=keys_body(state))
    assert response.status_code == 400
    assert KEY not in response.get_data(as_text=True)
    assert counts(runtime) == (0, 0)


def test_a_posted_shop_cannot_redirect_the_install(
    client: FlaskClient, runtime: Runtime, store: responses.RequestsMock
) -> None:
    state = begin(client)["user_id"]
    body = keys_body(state, shop="https://evil.example")
    assert client.post("/install/woocommerce/callback", json=body).status_code == 200
    assert stored(runtime) is not None  # the signed store, not the posted one
    assert all(urlsplit(c.request.url).netloc == "shop.example.com" for c in store.calls)


def test_platforms_with_a_browser_callback_have_no_posted_callback(
    client: FlaskClient, runtime: Runtime
) -> None:
    assert client.post("/install/teststore/callback", json={"state": "x"}).status_code == 405
    assert client.post("/install/nonesuch/callback", json={}).status_code == 404
    assert counts(runtime) == (0, 0)


def test_begin_refuses_a_non_store(client: FlaskClient, runtime: Runtime) -> None:
    assert client.get("/install/woocommerce?shop=ftp://x.example").status_code == 400
    assert client.get("/install/woocommerce").status_code == 400


# -- landing ---------------------------------------------------------------------------------------


def test_landing_before_the_keys_arrived_says_so(client: FlaskClient, runtime: Runtime) -> None:
    authorize = begin(client)
    # The merchant declined: WooCommerce sends the browser back with success=0, no post.
    response = client.get(f"{authorize['return_url']}&success=0&user_id=x")
    assert response.status_code == 400
    assert counts(runtime) == (0, 0)


def test_landing_with_a_bad_state_is_refused(client: FlaskClient) -> None:
    assert client.get("/install/woocommerce/callback?state=forged").status_code == 401
    assert client.get("/install/woocommerce/callback").status_code == 401
