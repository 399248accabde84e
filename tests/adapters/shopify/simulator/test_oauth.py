"""Installation flows: authorization code grant and token exchange."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import requests

from patronkit.adapters.shopify.simulator import ShopifySimulator
from patronkit.adapters.shopify.simulator.oauth import (
    ID_TOKEN_TYPE,
    OFFLINE_TOKEN_TYPE,
    TOKEN_EXCHANGE_GRANT,
    oauth_hmac,
)

REDIRECT = "https://app.example/auth/callback"


def _authorize(sim: ShopifySimulator, state: str = "nonce-123") -> dict[str, str]:
    response = requests.get(
        f"{sim.url}/admin/oauth/authorize",
        params={
            "client_id": sim.client_id,
            "scope": "read_customers,write_customers",
            "redirect_uri": REDIRECT,
            "state": state,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return dict(parse_qsl(location.query))


def test_authorize_redirects_with_signed_callback(simulator: ShopifySimulator) -> None:
    params = _authorize(simulator)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == simulator.shop_domain
    assert params["state"] == "nonce-123"
    assert abs(int(params["timestamp"]) - time.time()) < 5
    assert params["hmac"] == oauth_hmac(params, simulator.client_secret)
    assert params["hmac"] != oauth_hmac(params, "another-secret")


def test_code_exchange_is_single_use(simulator: ShopifySimulator) -> None:
    code = _authorize(simulator)["code"]
    body = {
        "client_id": simulator.client_id,
        "client_secret": simulator.client_secret,
        "code": code,
    }
    first = requests.post(f"{simulator.url}/admin/oauth/access_token", json=body, timeout=5)
    assert first.status_code == 200
    assert first.json()["scope"] == "read_customers,write_customers"
    token = first.json()["access_token"]
    shop = requests.post(
        simulator.graphql_url(),
        json={"query": "{ shop { myshopifyDomain } }"},
        headers={"X-Shopify-Access-Token": token},
        timeout=5,
    )
    assert shop.json()["data"]["shop"]["myshopifyDomain"] == simulator.shop_domain
    again = requests.post(f"{simulator.url}/admin/oauth/access_token", json=body, timeout=5)
    assert again.status_code == 400


def test_code_exchange_with_wrong_secret_is_refused(simulator: ShopifySimulator) -> None:
    code = _authorize(simulator)["code"]
    response = requests.post(
        f"{simulator.url}/admin/oauth/access_token",
        data={"client_id": simulator.client_id, "client_secret": "wrong", "code": code},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_authorize_with_unknown_client_is_refused(simulator: ShopifySimulator) -> None:
    response = requests.get(
        f"{simulator.url}/admin/oauth/authorize",
        params={"client_id": "nope", "scope": "read_customers", "redirect_uri": REDIRECT},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 400


def _exchange(
    sim: ShopifySimulator, subject_token: str, secret: str | None = None
) -> requests.Response:
    return requests.post(
        f"{sim.url}/admin/oauth/access_token",
        json={
            "client_id": sim.client_id,
            "client_secret": secret or sim.client_secret,
            "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": subject_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": OFFLINE_TOKEN_TYPE,
        },
        timeout=5,
    )


def test_token_exchange_with_session_token(simulator: ShopifySimulator) -> None:
    minted = requests.post(f"{simulator.url}/_simulator/session-token", json={}, timeout=5)
    response = _exchange(simulator, minted.json()["token"])
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "scope"}
    assert "write_customers" in response.json()["scope"].split(",")


def test_token_exchange_rejects_expired_or_foreign_tokens(simulator: ShopifySimulator) -> None:
    expired = simulator.mint_session_token(issued_at=time.time() - 300)
    assert _exchange(simulator, expired).status_code == 400
    wrong_signature = simulator.mint_session_token(secret="not-the-client-secret-but-long-enough")
    assert _exchange(simulator, wrong_signature).status_code == 400
    other_shop = simulator.mint_session_token(
        overrides={
            "iss": "https://other.myshopify.com/admin",
            "dest": "https://other.myshopify.com",
        }
    )
    assert _exchange(simulator, other_shop).status_code == 400
    wrong_audience = simulator.mint_session_token(overrides={"aud": "someone-else"})
    assert _exchange(simulator, wrong_audience).status_code == 400
    assert _exchange(simulator, simulator.mint_session_token(), secret="bad").status_code == 401


def test_graphql_requires_a_valid_token(simulator: ShopifySimulator) -> None:
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_bogus"}):
        response = requests.post(
            simulator.graphql_url(), json={"query": "{ shop { id } }"}, headers=headers, timeout=5
        )
        assert response.status_code == 401
        assert "Invalid API key or access token" in response.json()["errors"]
