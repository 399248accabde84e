"""The app key exchange of class-wc-auth.php: /wc-auth/v1/authorize and its callback."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from woocommerce import API

from patronkit.adapters.woocommerce.simulator import WooCommerceSimulator, running_simulator

from .conftest import Receiver

RETURN_URL = "https://app.example/installed"


def _authorize_url(simulator: WooCommerceSimulator, callback: str, **overrides: str) -> str:
    params = {
        "app_name": "patronkit",
        "scope": "read_write",
        "user_id": "42",
        "return_url": RETURN_URL,
        "callback_url": callback,
        **overrides,
    }
    return f"{simulator.url}/wc-auth/v1/authorize?{urlencode(params)}"


def _link(page: str, css_class: str) -> str:
    match = re.search(rf'class="[^"]*{css_class}[^"]*"[^>]*href="([^"]+)"', page)
    assert match, page
    return unescape(match.group(1))


def test_approval_posts_keys_server_to_server_then_redirects(
    simulator: WooCommerceSimulator, receiver: Receiver
) -> None:
    page = requests.get(_authorize_url(simulator, receiver.url), timeout=5)
    assert page.status_code == 200
    assert "patronkit" in page.text and "View and manage customers" in page.text
    assert receiver.received == []  # nothing is sent before the merchant approves

    approved = requests.get(_link(page.text, "wc-auth-approve"), allow_redirects=False, timeout=5)
    assert approved.status_code == 302
    target = urlsplit(approved.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN_URL
    assert parse_qs(target.query) == {"success": ["1"], "user_id": ["42"]}

    [callback] = receiver.received
    assert callback.method == "POST"
    assert callback.headers["Content-Type"].startswith("application/json")
    assert "Cookie" not in callback.headers
    keys = json.loads(callback.body)
    assert set(keys) == {"key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions"}
    assert keys["user_id"] == "42"  # the app's id, echoed back as the string it came as
    assert keys["key_permissions"] == "read_write"
    assert keys["consumer_key"].startswith("ck_") and keys["consumer_secret"].startswith("cs_")
    with simulator.state.lock:
        stored = simulator.state.api_keys[keys["key_id"]]
        assert stored.consumer_key_hash != keys["consumer_key"]  # only a hash is kept
        assert stored.truncated_key == keys["consumer_key"][-7:]

    api = API(simulator.url, keys["consumer_key"], keys["consumer_secret"], version="wc/v3")
    assert api.get("system_status").status_code == 200


def test_callback_must_answer_200_or_the_key_is_dropped(
    simulator: WooCommerceSimulator, receiver: Receiver
) -> None:
    receiver.respond = lambda request: 201
    page = requests.get(_authorize_url(simulator, receiver.url), timeout=5)
    failed = requests.get(_link(page.text, "wc-auth-approve"), allow_redirects=False, timeout=5)
    assert failed.status_code == 401
    assert "unable to send the consumer data" in failed.text
    assert len(receiver.received) == 1
    with simulator.state.lock:
        assert simulator.state.api_keys == {}


def test_denying_returns_with_success_0(
    simulator: WooCommerceSimulator, receiver: Receiver
) -> None:
    page = requests.get(_authorize_url(simulator, receiver.url), timeout=5)
    query = urlsplit(_link(page.text, "wc-auth-deny")).query
    assert parse_qs(query) == {"success": ["0"], "user_id": ["42"]}


def test_parameters_are_validated(simulator: WooCommerceSimulator, receiver: Receiver) -> None:
    missing = requests.get(_authorize_url(simulator, receiver.url, scope=""), timeout=5)
    assert missing.status_code == 401 and "Missing parameter scope" in missing.text
    invalid = requests.get(_authorize_url(simulator, receiver.url, scope="admin"), timeout=5)
    assert invalid.status_code == 401 and "Invalid scope admin" in invalid.text
    forged = requests.get(
        _authorize_url(simulator, receiver.url).replace("/authorize?", "/access_granted?"),
        timeout=5,
    )
    assert forged.status_code == 401 and "Invalid nonce verification" in forged.text
    assert receiver.received == []


def test_callback_needs_https_unless_relaxed(receiver: Receiver) -> None:
    with running_simulator(customers=1) as strict:
        refused = requests.get(_authorize_url(strict, receiver.url), timeout=5)
        assert refused.status_code == 401
        assert "The callback_url needs to be over SSL" in refused.text
    with running_simulator(customers=1, callback_requires_https=False, auto_approve=True) as loose:
        done = requests.get(_authorize_url(loose, receiver.url), allow_redirects=False, timeout=5)
        assert done.status_code == 302 and "success=1" in done.headers["Location"]
        assert len(receiver.received) == 1
