"""Fidelity check: Shopify's own Python library works against the simulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import shopify
from shopify import session_token

from patronkit.adapters.shopify.simulator import ShopifySimulator

PAGE = """query($after: String) { customers(first: 25, after: $after) {
            edges { node { id email } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def library_session(simulator: ShopifySimulator, token: str) -> Iterator[None]:
    saved = {
        name: getattr(shopify.Session, name)
        for name in ("protocol", "myshopify_domain", "port", "api_key", "secret")
    }
    # ShopifyAPI builds "{protocol}://{first label of shop}.{myshopify_domain}:{port}";
    # "127" + "." + "0.0.1" makes the loopback address, since *.localhost does not resolve.
    shopify.Session.setup(
        protocol="http",
        myshopify_domain="0.0.1",
        port=simulator.port,
        api_key=simulator.client_id,
        secret=simulator.client_secret,
    )
    session = shopify.Session("127.0.0.1", "2025-07", token)
    shopify.ShopifyResource.activate_session(session)
    try:
        yield
    finally:
        shopify.ShopifyResource.clear_session()
        for name, value in saved.items():
            setattr(shopify.Session, name, value)


def _execute(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(shopify.GraphQL().execute(query, variables))
    return body


def test_library_pages_customers_and_updates_consent(
    simulator: ShopifySimulator, library_session: None
) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = _execute(PAGE, {"after": after})["data"]["customers"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 60
    result = _execute(
        """mutation($input: CustomerSmsMarketingConsentUpdateInput!) {
             customerSmsMarketingConsentUpdate(input: $input) {
               customer { smsMarketingConsent { marketingState } } userErrors { message } } }""",
        {
            "input": {
                "customerId": _with_phone(simulator),
                "smsMarketingConsent": {"marketingState": "SUBSCRIBED"},
            }
        },
    )
    payload = result["data"]["customerSmsMarketingConsentUpdate"]
    assert payload["userErrors"] == []
    assert payload["customer"]["smsMarketingConsent"]["marketingState"] == "SUBSCRIBED"


def _with_phone(sim: ShopifySimulator) -> str:
    with sim.state.lock:
        customer = next(
            c
            for c in sim.state.customers.values()
            if c.phone and c.sms_consent and c.sms_consent.marketing_state != "SUBSCRIBED"
        )
    return f"gid://shopify/Customer/{customer.id}"


def test_library_accepts_oauth_callback_hmac(
    simulator: ShopifySimulator, library_session: None
) -> None:
    response = requests.get(
        f"{simulator.url}/admin/oauth/authorize",
        params={
            "client_id": simulator.client_id,
            "scope": "read_customers",
            "redirect_uri": "https://app.example/cb",
            "state": "a&b=c%d",
        },
        allow_redirects=False,
        timeout=5,
    )
    params = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    assert shopify.Session.calculate_hmac(params) == params["hmac"]
    assert shopify.Session.validate_hmac(params)
    assert shopify.Session.validate_params(params)
    tampered = {**params, "shop": "evil.myshopify.com"}
    assert not shopify.Session.validate_hmac(tampered)


def test_library_decodes_minted_session_tokens(simulator: ShopifySimulator) -> None:
    minted = requests.post(
        f"{simulator.url}/_simulator/session-token", json={"sub": "7"}, timeout=5
    ).json()["token"]
    claims = session_token.decode_from_header(
        f"Bearer {minted}", simulator.client_id, simulator.client_secret
    )
    assert claims["dest"] == f"https://{simulator.shop_domain}"
    assert claims["iss"] == f"https://{simulator.shop_domain}/admin"
    assert claims["sub"] == "7"
    assert claims["exp"] - claims["iat"] == 60 and abs(claims["nbf"] - time.time()) < 5
    with pytest.raises(session_token.SessionTokenError):
        session_token.decode_from_header(
            f"Bearer {minted}", "other-client", simulator.client_secret
        )
