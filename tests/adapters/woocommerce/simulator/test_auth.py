"""Authentication as WooCommerce does it over plain HTTP (OAuth 1.0a) and behind HTTPS."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import requests

from patronkit.adapters.woocommerce.simulator import WooCommerceSimulator, running_simulator

from .conftest import oauth_params, signed_url


def _error(response: requests.Response) -> tuple[int, str, str]:
    body: dict[str, Any] = response.json()
    return response.status_code, body["code"], body["message"]


def test_signed_requests_work_with_sha1_and_sha256_in_query_or_header(
    simulator: WooCommerceSimulator, keys: tuple[str, str]
) -> None:
    for algorithm in ("HMAC-SHA1", "HMAC-SHA256"):
        url = signed_url(
            simulator, "GET", "customers", keys, {"per_page": "5"}, algorithm=algorithm
        )
        response = requests.get(url, timeout=5)
        assert response.status_code == 200, response.text
        assert len(response.json()) == 5
    # OAuth parameters in the Authorization header instead of the query string
    url = f"{simulator.rest_url}/customers"
    oauth = oauth_params("GET", url, keys[0], keys[1], {"search": "a b"})
    header = "OAuth " + ", ".join(
        f'{k}="{quote(v, safe="")}"' for k, v in oauth.items() if k != "search"
    )
    response = requests.get(
        url, params={"search": "a b"}, headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 200, response.text


def test_the_json_body_is_not_signed(
    simulator: WooCommerceSimulator, keys: tuple[str, str]
) -> None:
    url = signed_url(simulator, "POST", "customers", keys)
    response = requests.post(url, json={"email": "new.person@example.com"}, timeout=5)
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "new.person"


def test_wrong_signature_is_refused(simulator: WooCommerceSimulator, keys: tuple[str, str]) -> None:
    url = signed_url(simulator, "GET", "customers", (keys[0], "cs_not_the_secret"))
    assert _error(requests.get(url, timeout=5)) == (
        401,
        "woocommerce_rest_authentication_error",
        "Invalid signature - provided signature does not match.",
    )
    # signing a different URL (here: another host name for the same server) fails too
    other_host = simulator.rest_url.replace("127.0.0.1", "localhost")
    oauth = oauth_params("GET", f"{other_host}/customers", *keys)
    response = requests.get(f"{simulator.rest_url}/customers", params=oauth, timeout=5)
    assert _error(response)[0:2] == (401, "woocommerce_rest_authentication_error")


def test_stale_timestamp_is_refused(simulator: WooCommerceSimulator, keys: tuple[str, str]) -> None:
    stale = int(time.time()) - 16 * 60
    url = signed_url(simulator, "GET", "customers", keys, timestamp=stale)
    assert _error(requests.get(url, timeout=5)) == (
        401,
        "woocommerce_rest_authentication_error",
        "Invalid timestamp.",
    )
    recent = signed_url(simulator, "GET", "customers", keys, timestamp=int(time.time()) - 14 * 60)
    assert requests.get(recent, timeout=5).status_code == 200


def test_replayed_nonce_is_refused(simulator: WooCommerceSimulator, keys: tuple[str, str]) -> None:
    url = signed_url(simulator, "GET", "orders", keys, nonce="fixed-nonce-1")
    assert requests.get(url, timeout=5).status_code == 200
    assert _error(requests.get(url, timeout=5)) == (
        401,
        "woocommerce_rest_authentication_error",
        "Invalid nonce - nonce has already been used.",
    )
    violations = simulator.stats()["api"]["violations"]
    assert violations["nonce_replayed"] == 1


def test_unknown_key_missing_parameters_and_no_credentials(
    simulator: WooCommerceSimulator, keys: tuple[str, str]
) -> None:
    url = signed_url(simulator, "GET", "customers", ("ck_unknown", keys[1]))
    assert _error(requests.get(url, timeout=5))[1:] == (
        "woocommerce_rest_authentication_error",
        "Consumer key is invalid.",
    )
    partial = requests.get(
        f"{simulator.rest_url}/customers", params={"oauth_consumer_key": keys[0]}, timeout=5
    )
    status, code, message = _error(partial)
    assert (status, code) == (401, "woocommerce_rest_authentication_missing_parameter")
    assert message.startswith("Missing OAuth parameters oauth_timestamp")
    anonymous = requests.get(f"{simulator.rest_url}/customers", timeout=5)
    assert _error(anonymous) == (
        401,
        "woocommerce_rest_cannot_view",
        "Sorry, you cannot list resources.",
    )
    assert simulator.stats()["api"]["auth_failures"] == 2  # anonymous is not an auth failure


def test_basic_auth_only_when_behind_https(
    simulator: WooCommerceSimulator, keys: tuple[str, str]
) -> None:
    url = f"{simulator.rest_url}/customers"
    # plain HTTP: Basic auth and query-string keys are simply not looked at
    assert requests.get(url, auth=keys, timeout=5).status_code == 401
    query = {"consumer_key": keys[0], "consumer_secret": keys[1]}
    assert (
        requests.get(url, params=query, timeout=5).json()["code"] == "woocommerce_rest_cannot_view"
    )

    with running_simulator(customers=3, assume_https=True) as tls:
        ck, cs = tls.create_api_key("read")
        tls_url = f"{tls.rest_url}/customers"
        assert requests.get(tls_url, auth=(ck, cs), timeout=5).status_code == 200
        query = {"consumer_key": ck, "consumer_secret": cs}
        assert requests.get(tls_url, params=query, timeout=5).status_code == 200
        wrong = requests.get(tls_url, auth=(ck, "cs_wrong"), timeout=5)
        assert _error(wrong) == (
            401,
            "woocommerce_rest_authentication_error",
            "Consumer secret is invalid.",
        )


def test_key_permissions_are_enforced(simulator: WooCommerceSimulator) -> None:
    read_only = simulator.create_api_key("read")
    assert requests.get(signed_url(simulator, "GET", "customers", read_only), timeout=5).ok
    response = requests.post(
        signed_url(simulator, "POST", "customers", read_only),
        json={"email": "blocked@example.com"},
        timeout=5,
    )
    assert _error(response) == (
        401,
        "woocommerce_rest_authentication_error",
        "The API key provided does not have write permissions.",
    )
    write_only = simulator.create_api_key("write")
    response = requests.get(signed_url(simulator, "GET", "customers", write_only), timeout=5)
    assert _error(response)[2] == "The API key provided does not have read permissions."
    created = requests.post(
        signed_url(simulator, "POST", "customers", write_only),
        json={"email": "allowed@example.com"},
        timeout=5,
    )
    assert created.status_code == 201


def test_per_page_above_100_is_a_400(
    simulator: WooCommerceSimulator, keys: tuple[str, str]
) -> None:
    for value in ("101", "0"):
        url = signed_url(simulator, "GET", "customers", keys, {"per_page": value})
        response = requests.get(url, timeout=5)
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "rest_invalid_param"
        assert body["data"]["params"]["per_page"] == (
            "per_page must be between 1 (inclusive) and 100 (inclusive)"
        )
    assert simulator.stats()["api"]["violations"]["per_page_out_of_bounds"] == 2
    url = signed_url(simulator, "GET", "customers", keys, {"per_page": "100"})
    assert len(requests.get(url, timeout=5).json()) == 45
