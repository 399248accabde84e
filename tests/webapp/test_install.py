"""Install flows against the Shopify simulator over loopback; our app through Flask's client.

Every refused install must answer 4xx and leave the merchants and shop_connections tables
exactly as they were.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

import itsdangerous
import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from patronkit.adapters.shopify import oauth
from patronkit.adapters.shopify.gateway import ShopifyAppConfig, ShopifyGateway
from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.adapters.shopify.webhooks import SUBSCRIBED_TOPICS, graphql_topic
from patronkit.bootstrap import Runtime, build_runtime
from patronkit.config import Settings
from patronkit.core.domain.merchant import ShopConnection, ShopStatus
from patronkit.core.domain.values import utcnow
from patronkit.core.store import tables
from patronkit.webapp import create_app
from patronkit.webapp.install import STATE_COOKIE, STATE_MAX_AGE_SECONDS
from tests.sync.fakes import FakeGateway

SCOPES = ("read_customers", "write_customers", "read_orders")
FORGED_SECRET = "not-the-app-secret-but-long-enough-for-hs256"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[ShopifySimulator]:
    with running_simulator(customers=3, orders=0, seed=5) as sim:
        yield sim


@pytest.fixture
def gateway(sim: ShopifySimulator) -> Iterator[ShopifyGateway]:
    # As in test_gateway.py: the override points install calls for the shop at the simulator.
    config = ShopifyAppConfig(
        client_id=sim.client_id,
        client_secret=sim.client_secret,
        scopes=SCOPES,
        api_base_override={sim.shop_domain: sim.url},
    )
    gateway = ShopifyGateway(config)
    yield gateway
    gateway.close()


def make_runtime(settings: Settings, gateway: ShopifyGateway) -> Runtime:
    gateways = {"shopify": gateway, "teststore": FakeGateway()}
    return build_runtime(settings, gateways=gateways, immediate=True)


@pytest.fixture
def runtime(settings: Settings, clean_db: object, gateway: ShopifyGateway) -> Iterator[Runtime]:
    run = make_runtime(settings, gateway)
    yield run
    run.close()


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# -- helpers ---------------------------------------------------------------------------------


def counts(run: Runtime) -> tuple[int, int]:
    with run.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (tables.merchants, tables.shop_connections)
        )


def begin(client: FlaskClient, shop: str) -> str:
    response = client.get(f"/install/shopify?{urlencode({'shop': shop})}")
    assert response.status_code == 302, response.get_json()
    return response.headers["Location"]


def approve(authorize_url: str) -> dict[str, str]:
    """The merchant approves in the (simulated) store, which 302s back to our callback."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))


def call_back(client: FlaskClient, params: dict[str, str]) -> tuple[int, str]:
    response = client.get(f"/install/shopify/callback?{urlencode(params)}")
    return response.status_code, response.headers.get("Location", "")


def resign(params: dict[str, str], secret: str, **changes: str) -> dict[str, str]:
    """The callback as the store would have signed it with these values."""
    changed = {**params, **changes}
    changed["hmac"] = oauth.calculate_hmac(changed, secret)
    return changed


def stored_shop(run: Runtime, domain: str) -> ShopConnection:
    with run.unit_of_work(read_only=True) as uow:
        shop = uow.merchants.shop_by_domain("shopify", domain)
    assert shop is not None
    return shop


def subscriptions(sim: ShopifySimulator) -> list[tuple[str, str]]:
    with sim.state.lock:
        return sorted((s.topic, s.callback_url) for s in sim.state.webhook_subscriptions.values())


def expected_subscriptions(public_url: str) -> list[tuple[str, str]]:
    return sorted((graphql_topic(t), f"{public_url}/webhooks/shopify") for t in SUBSCRIBED_TOPICS)


def state_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(STATE_COOKIE, path="/install/shopify")
    return cookie.value if cookie is not None else None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the code grant --------------------------------------------------------------------------


def test_code_grant_install_end_to_end(
    client: FlaskClient,
    runtime: Runtime,
    sim: ShopifySimulator,
    engine: sa.Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.get(f"/install/shopify?shop={sim.shop_domain}")
    assert response.status_code == 302
    authorize_url = response.headers["Location"]
    assert authorize_url.startswith(f"{sim.url}/admin/oauth/authorize?")
    query = dict(parse_qsl(urlsplit(authorize_url).query))
    public_url = runtime.settings.public_url
    assert query["redirect_uri"] == f"{public_url}/install/shopify/callback"
    assert len(query["state"]) == 64 and int(query["state"], 16) >= 0
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{STATE_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/install/shopify"):
        assert attribute in set_cookie
    assert f"Max-Age={STATE_MAX_AGE_SECONDS}" in set_cookie
    assert "Secure" not in set_cookie  # public_url is http here
    assert query["state"] not in set_cookie  # signed and encoded, not a bare nonce

    params = approve(authorize_url)
    status, location = call_back(client, params)

    assert status == 302
    assert location.startswith(f"{public_url}/admin?")
    assert dict(parse_qsl(urlsplit(location).query)) == {
        "platform": "shopify",
        "shop": sim.shop_domain,
        "host": params["host"],
    }
    assert state_cookie(client) is None  # the nonce is spent
    assert counts(runtime) == (1, 1)
    shop = stored_shop(runtime, sim.shop_domain)
    token = shop.credentials(runtime.sealer)["access_token"]
    assert token in sim.state.access_tokens
    assert (shop.status, shop.api_url, shop.remote_shop_id) == (
        ShopStatus.ACTIVE,
        sim.url,
        str(sim.state.shop_id),
    )
    with runtime.unit_of_work(read_only=True) as uow:
        assert uow.merchants.get(shop.merchant_id).name == sim.state.name
    with engine.connect() as connection:
        row = connection.execute(sa.select(tables.shop_connections)).one()
    assert token.encode() not in bytes(row.sealed_credentials)
    assert all(token not in str(value) for value in row)
    assert subscriptions(sim) == expected_subscriptions(public_url)
    for secret in (token, params["code"], params["hmac"], sim.client_secret):
        assert secret not in caplog.text


def test_a_registration_failure_keeps_the_install(
    settings: Settings, clean_db: object, gateway: ShopifyGateway, sim: ShopifySimulator
) -> None:
    # Shopify refuses plain-http webhook URLs outside loopback.
    run = make_runtime(dataclasses.replace(settings, public_url="http://app.example"), gateway)
    try:
        client = create_app(runtime=run).test_client()
        status, location = call_back(client, approve(begin(client, sim.shop_domain)))
        assert status == 302
        assert dict(parse_qsl(urlsplit(location).query))["webhooks"] == "pending"
        assert counts(run) == (1, 1)
        assert stored_shop(run, sim.shop_domain).active
        assert subscriptions(sim) == []
    finally:
        run.close()


def test_the_cookie_is_secure_behind_https(
    settings: Settings, clean_db: object, gateway: ShopifyGateway, sim: ShopifySimulator
) -> None:
    run = make_runtime(dataclasses.replace(settings, public_url="https://app.example"), gateway)
    try:
        response = (
            create_app(runtime=run).test_client().get(f"/install/shopify?shop={sim.shop_domain}")
        )
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
        query = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
        assert query["redirect_uri"] == "https://app.example/install/shopify/callback"
    finally:
        run.close()


@pytest.mark.parametrize(
    "shop",
    ["evil.com", "x.myshopify.com.evil.com", "", "sim-shop.myshopify.com/../evil", "a b"],
)
def test_an_invalid_shop_is_refused_before_anything_starts(
    client: FlaskClient, runtime: Runtime, shop: str
) -> None:
    response = client.get(f"/install/shopify?{urlencode({'shop': shop})}")
    assert response.status_code == 400
    assert response.get_json()["error"] in {"invalid shop", "missing shop"}
    assert "Set-Cookie" not in response.headers
    assert counts(runtime) == (0, 0)


def test_an_unknown_platform_is_not_found(client: FlaskClient, runtime: Runtime) -> None:
    assert client.get("/install/nonesuch?shop=a.example").status_code == 404
    assert client.get("/install/nonesuch/callback?shop=a.example").status_code == 404
    assert client.post("/install/nonesuch/session").status_code == 404


# -- refused callbacks -----------------------------------------------------------------------


def test_a_tampered_parameter_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    params = approve(begin(client, sim.shop_domain))
    assert call_back(client, {**params, "host": "ZXZpbC5leGFtcGxl"})[0] == 400
    assert counts(runtime) == (0, 0)


def test_a_shop_outside_shopify_is_refused_even_when_signed(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    params = approve(begin(client, sim.shop_domain))
    for shop in ("evil.com", "x.myshopify.com.evil.com"):
        assert call_back(client, resign(params, sim.client_secret, shop=shop))[0] in (400, 401)
    assert counts(runtime) == (0, 0)


def test_a_stale_timestamp_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    params = approve(begin(client, sim.shop_domain))
    stale = str(int(params["timestamp"]) - 600)
    assert call_back(client, resign(params, sim.client_secret, timestamp=stale))[0] == 400
    assert counts(runtime) == (0, 0)


def test_a_repeated_parameter_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    params = approve(begin(client, sim.shop_domain))
    query = urlencode(params) + "&shop=evil.com"
    assert client.get(f"/install/shopify/callback?{query}").status_code == 400
    assert counts(runtime) == (0, 0)


def test_a_state_from_another_install_attempt_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    first = begin(client, sim.shop_domain)
    begin(client, sim.shop_domain)  # a second attempt replaces the cookie's nonce
    assert call_back(client, approve(first))[0] == 400
    assert counts(runtime) == (0, 0)


def test_a_callback_without_the_cookie_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    params = approve(begin(client, sim.shop_domain))
    client.delete_cookie(STATE_COOKIE, path="/install/shopify")
    assert call_back(client, params)[0] == 401
    assert counts(runtime) == (0, 0)


def test_a_forged_cookie_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    params = approve(begin(client, sim.shop_domain))
    forged = itsdangerous.URLSafeTimedSerializer("guessed-key", salt="patronkit.install-state")
    value = forged.dumps({"platform": "shopify", "state": params["state"]})
    client.set_cookie(STATE_COOKIE, value, path="/install/shopify")
    assert call_back(client, params)[0] == 401
    assert counts(runtime) == (0, 0)


def test_an_expired_cookie_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = int(time.time()) - STATE_MAX_AGE_SECONDS - 5
    with monkeypatch.context() as patch:
        patch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda _self: issued)
        authorize_url = begin(client, sim.shop_domain)
    assert call_back(client, approve(authorize_url))[0] == 401
    assert counts(runtime) == (0, 0)


def test_a_cookie_for_another_platform_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    # The fake platform's install sets its own cookie; it must not unlock Shopify's callback.
    response = client.get("/install/teststore?shop=a.example")
    other = SimpleCookie(response.headers["Set-Cookie"])[STATE_COOKIE].value
    params = approve(begin(client, sim.shop_domain))
    client.set_cookie(STATE_COOKIE, other, path="/install/shopify")
    assert call_back(client, params)[0] == 401
    assert counts(runtime) == (0, 0)


def test_a_reused_code_is_refused_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    authorize_url = begin(client, sim.shop_domain)
    cookie = state_cookie(client)
    assert cookie is not None
    params = approve(authorize_url)
    assert call_back(client, params)[0] == 302
    before = stored_shop(runtime, sim.shop_domain).credentials(runtime.sealer)

    client.set_cookie(STATE_COOKIE, cookie, path="/install/shopify")  # replay it all
    assert call_back(client, params)[0] == 400
    assert counts(runtime) == (1, 1)
    assert stored_shop(runtime, sim.shop_domain).credentials(runtime.sealer) == before


# -- token exchange (embedded) ---------------------------------------------------------------


def test_token_exchange_install(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session_token = sim.mint_session_token()
    response = client.post("/install/shopify/session", headers=bearer(session_token))

    assert response.status_code == 200
    body = response.get_json()
    shop = stored_shop(runtime, sim.shop_domain)
    assert body == {
        "shop": sim.shop_domain,
        "merchant_id": str(shop.merchant_id),
        "webhooks": "registered",
    }
    assert counts(runtime) == (1, 1)
    token = shop.credentials(runtime.sealer)["access_token"]
    assert token in sim.state.access_tokens
    assert subscriptions(sim) == expected_subscriptions(runtime.settings.public_url)
    assert session_token not in caplog.text and token not in caplog.text

    # Every load of the embedded admin may exchange again: same connection, fresh token.
    again = client.post("/install/shopify/session", headers=bearer(sim.mint_session_token()))
    assert again.get_json()["merchant_id"] == body["merchant_id"]
    assert counts(runtime) == (1, 1)
    assert subscriptions(sim) == expected_subscriptions(runtime.settings.public_url)


@pytest.mark.parametrize(
    "mint",
    [
        lambda sim: sim.mint_session_token(secret=FORGED_SECRET),
        lambda sim: sim.mint_session_token(overrides={"aud": "another-app"}),
        lambda sim: sim.mint_session_token(issued_at=time.time() - 3600),
        lambda sim: sim.mint_session_token(overrides={"dest": "https://other.myshopify.com"}),
        lambda sim: sim.mint_session_token(
            overrides={"iss": "https://evil.com/admin", "dest": "https://evil.com"}
        ),
        lambda sim: "not-a-jwt",
    ],
    ids=["wrong-secret", "wrong-aud", "expired", "dest-not-iss", "not-a-shop", "garbage"],
)
def test_a_bad_session_token_is_refused(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator, mint: object
) -> None:
    token = mint(sim)  # type: ignore[operator]
    response = client.post("/install/shopify/session", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in response.get_data(as_text=True)
    assert counts(runtime) == (0, 0)
    assert subscriptions(sim) == []


def test_a_missing_session_token_is_refused(client: FlaskClient, runtime: Runtime) -> None:
    assert client.post("/install/shopify/session").status_code == 401
    assert counts(runtime) == (0, 0)


def test_platforms_without_session_tokens_have_no_session_route(
    client: FlaskClient, runtime: Runtime
) -> None:
    response = client.post("/install/teststore/session", headers=bearer("x"))
    assert response.status_code == 404
    assert counts(runtime) == (0, 0)


# -- re-install ------------------------------------------------------------------------------


def test_reinstall_of_an_uninstalled_shop_reactivates_the_same_connection(
    client: FlaskClient, runtime: Runtime, sim: ShopifySimulator
) -> None:
    first = client.post("/install/shopify/session", headers=bearer(sim.mint_session_token()))
    original = stored_shop(runtime, sim.shop_domain)
    old_token = original.credentials(runtime.sealer)["access_token"]
    with runtime.unit_of_work() as uow:  # what the app/uninstalled webhook leaves behind
        shop = uow.merchants.shop_by_domain("shopify", sim.shop_domain)
        assert shop is not None
        shop.mark_uninstalled(utcnow())
        uow.commit()

    status, _ = call_back(client, approve(begin(client, sim.shop_domain)))

    assert status == 302
    assert counts(runtime) == (1, 1)
    shop = stored_shop(runtime, sim.shop_domain)
    assert (shop.id, str(shop.merchant_id)) == (original.id, first.get_json()["merchant_id"])
    assert (shop.status, shop.uninstalled_at) == (ShopStatus.ACTIVE, None)
    new_token = shop.credentials(runtime.sealer)["access_token"]
    assert new_token != old_token and new_token in sim.state.access_tokens
