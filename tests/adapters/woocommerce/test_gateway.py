"""WooCommerceGateway against `responses` at the HTTP boundary (unit level: the simulator's
end-to-end tests come separately)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from patronkit.adapters.registry import PLATFORMS, builder
from patronkit.adapters.woocommerce.gateway import (
    WebhookRegistrationError,
    WooCommerceConfigError,
    WooCommerceGateway,
    build,
)
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from patronkit.core.storefront import (
    ConsentPush,
    InstallFlow,
    InstallRejected,
    PushOutcome,
    ShopAccess,
    StoreAccessRevoked,
    StoreUnavailable,
)
from tests.adapters.woocommerce.test_mapping import consent_entry, customer_payload, order_payload

SITE = "https://shop.example.com"
API = f"{SITE}/wp-json/wc/v3"
KEY, SECRET = "ck_" + "1" * 40, "cs_" + "2" * 40
CALLBACK = "https://app.example.org/install/woocommerce/callback"
HOOKS_URL = "https://app.example.org/webhooks/woocommerce"
STATE = "eyJwbGF0Zm9ybSI6IndvbyJ9.Zl3x9A.sig-_nature"
T0 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def gateway(sleeps: list[float]) -> WooCommerceGateway:
    return WooCommerceGateway(sleep=sleeps.append, rng=random.Random(3))


def access(**credentials: str) -> ShopAccess:
    held = {"consumer_key": KEY, "consumer_secret": SECRET, "webhook_secret": "whs"}
    held.update(credentials)
    return ShopAccess(SITE, SITE, held)


def posted(**changes: str) -> dict[str, str]:
    """The callback fields as the web layer hands them over (text, plus the signed shop)."""
    params = {
        "key_id": "1",
        "user_id": STATE,
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "key_permissions": "read_write",
        "shop": SITE,
    }
    params.update(changes)
    return params


def push(remote_id: str = "25", **changes: Any) -> ConsentPush:
    values: dict[str, Any] = {
        "customer_remote_id": remote_id,
        "channel": Channel.EMAIL,
        "state": ConsentState.UNSUBSCRIBED,
        "opt_in_level": OptInLevel.SINGLE,
        "occurred_at": T0,
    }
    values.update(changes)
    return ConsentPush(**values)


def query(call: Any) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# -- settings and registry ----------------------------------------------------------------------


def test_the_registry_builds_it_from_settings() -> None:
    assert PLATFORMS["woocommerce"] == "patronkit.adapters.woocommerce.gateway:build"
    gateway = builder("woocommerce")({"app_name": "Acme Loyalty", "timeout": "7"})
    assert isinstance(gateway, WooCommerceGateway)
    assert gateway.platform == "woocommerce"
    assert gateway.install_flow is InstallFlow.SERVER_POST
    assert gateway.install_state_param == "user_id"
    assert (gateway.config.app_name, gateway.config.timeout) == ("Acme Loyalty", 7.0)
    defaults = build({"enabled": "1"})
    assert (defaults.config.app_name, defaults.config.verify_ssl) == ("patronkit", True)
    assert build({"verify_ssl": "false"}).config.verify_ssl is False


@pytest.mark.parametrize(
    "options",
    [{"timeout": "soon"}, {"timeout": "0"}, {"verify_ssl": "maybe"}, {"app_name": "x" * 200}],
)
def test_bad_settings_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(WooCommerceConfigError):
        build(options)


# -- install ------------------------------------------------------------------------------------


def test_begin_install_sends_the_merchant_to_wc_auth(gateway: WooCommerceGateway) -> None:
    url = gateway.begin_install("Shop.Example.com/", CALLBACK, STATE)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SITE}/wc-auth/v1/authorize"
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params == {
        "app_name": "patronkit",
        "scope": "read_write",
        "user_id": STATE,
        "return_url": f"{CALLBACK}?state={STATE}",
        "callback_url": CALLBACK,
    }


def test_begin_install_refuses_a_non_store(gateway: WooCommerceGateway) -> None:
    with pytest.raises(InstallRejected):
        gateway.begin_install("ftp://shop.example.com", CALLBACK, STATE)
    assert gateway.canonical_shop("SHOP.example.com/") == SITE


@responses.activate
def test_complete_install_checks_the_keys_with_one_get(gateway: WooCommerceGateway) -> None:
    responses.get(f"{API}/webhooks", json=[], headers={"X-WP-TotalPages": "0"})
    installation = gateway.complete_install(posted(), STATE)
    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert (installation.domain, installation.api_url) == (SITE, SITE)
    credentials = dict(installation.credentials)
    secret = credentials.pop("webhook_secret")
    assert credentials == {"consumer_key": KEY, "consumer_secret": SECRET}
    assert isinstance(secret, str) and len(secret) >= 40
    assert secret.replace("-", "").replace("_", "").isalnum()
    # Each install draws its own secret.
    assert gateway.complete_install(posted(), STATE).credentials["webhook_secret"] != secret
    assert KEY not in repr(installation)


@responses.activate
@pytest.mark.parametrize("status", [401, 403])
def test_complete_install_refuses_keys_the_store_refuses(
    gateway: WooCommerceGateway, status: int
) -> None:
    responses.get(f"{API}/webhooks", status=status, json={"code": "woocommerce_rest_cannot_view"})
    with pytest.raises(InstallRejected):
        gateway.complete_install(posted(), STATE)


@responses.activate
def test_complete_install_refuses_when_the_store_cannot_be_reached(
    gateway: WooCommerceGateway,
) -> None:
    responses.get(f"{API}/webhooks", body=requests.ConnectionError("down"))
    with pytest.raises(InstallRejected):
        gateway.complete_install(posted(), STATE)


@pytest.mark.parametrize(
    ("changes", "expected_state"),
    [
        ({}, None),
        ({}, "another-state"),
        ({"user_id": ""}, STATE),
        ({"shop": "not a url"}, STATE),
        ({"key_permissions": "read"}, STATE),
        ({"consumer_key": "ck_short"}, STATE),
        ({"consumer_key": "cs_" + "1" * 40}, STATE),
        ({"consumer_secret": ""}, STATE),
        ({"consumer_secret": "cs_" + "1" * 40 + "<script>"}, STATE),
    ],
)
@responses.activate
def test_complete_install_refuses_bad_callbacks_without_calling_the_store(
    gateway: WooCommerceGateway, changes: dict[str, str], expected_state: str | None
) -> None:
    with pytest.raises(InstallRejected):
        gateway.complete_install(posted(**changes), expected_state)
    assert len(responses.calls) == 0


# -- webhook registration -----------------------------------------------------------------------


def hook(hook_id: int, topic: str, status: str = "active", url: str = HOOKS_URL) -> dict[str, Any]:
    return {
        "id": hook_id,
        "name": f"x {topic}",
        "status": status,
        "topic": topic,
        "delivery_url": url,
    }


@responses.activate
def test_register_webhooks_creates_reactivates_and_dedupes(gateway: WooCommerceGateway) -> None:
    existing = [
        hook(11, "customer.created"),
        hook(12, "customer.updated", status="disabled"),  # WooCommerce gave up on it
        hook(13, "customer.updated"),  # a duplicate of ours
        hook(14, "order.created", url="https://someone-else.example/hook"),
    ]
    responses.get(f"{API}/webhooks", json=existing, headers={"X-WP-TotalPages": "1"})
    responses.put(f"{API}/webhooks/11", json={})
    responses.put(f"{API}/webhooks/12", json={})
    responses.delete(f"{API}/webhooks/13", json={})
    responses.post(f"{API}/webhooks", status=201, json={})

    gateway.register_webhooks(access(), HOOKS_URL)

    calls = [(c.request.method, urlsplit(c.request.url).path) for c in responses.calls]
    assert calls.count(("PUT", "/wp-json/wc/v3/webhooks/11")) == 1
    assert calls.count(("PUT", "/wp-json/wc/v3/webhooks/12")) == 1
    assert ("DELETE", "/wp-json/wc/v3/webhooks/13") in calls
    assert not any(path.endswith("/14") for _, path in calls)  # not ours: left alone
    created = [json.loads(c.request.body) for c in responses.calls if c.request.method == "POST"]
    assert sorted(body["topic"] for body in created) == [
        "coupon.created",
        "coupon.updated",
        "customer.deleted",
        "order.created",
        "order.updated",
    ]
    for body in created:
        assert (body["delivery_url"], body["secret"], body["status"]) == (
            HOOKS_URL,
            "whs",
            "active",
        )
    updates = [json.loads(c.request.body) for c in responses.calls if c.request.method == "PUT"]
    # The secret is written on every one of ours: a reinstall drew a new one.
    assert updates == [{"status": "active", "secret": "whs"}] * 2


@responses.activate
def test_register_webhooks_twice_creates_nothing_the_second_time(
    gateway: WooCommerceGateway,
) -> None:
    from patronkit.adapters.woocommerce.webhooks import SUBSCRIBED_TOPICS

    present = [hook(100 + i, topic) for i, topic in enumerate(SUBSCRIBED_TOPICS)]
    responses.get(f"{API}/webhooks", json=present, headers={"X-WP-TotalPages": "1"})
    for item in present:
        responses.put(f"{API}/webhooks/{item['id']}", json={})
    gateway.register_webhooks(access(), HOOKS_URL)
    assert not [c for c in responses.calls if c.request.method in ("POST", "DELETE")]


@responses.activate
def test_register_webhooks_reports_a_refusal(gateway: WooCommerceGateway) -> None:
    responses.get(f"{API}/webhooks", json=[], headers={"X-WP-TotalPages": "0"})
    responses.post(
        f"{API}/webhooks", status=400, json={"code": "woocommerce_rest_shop_webhook_invalid_topic"}
    )
    with pytest.raises(WebhookRegistrationError):
        gateway.register_webhooks(access(), HOOKS_URL)


def test_register_webhooks_needs_the_shop_secret(gateway: WooCommerceGateway) -> None:
    with pytest.raises(WooCommerceConfigError):
        gateway.register_webhooks(access(webhook_secret=""), HOOKS_URL)


# -- reading ------------------------------------------------------------------------------------


@responses.activate
def test_reconcile_catches_a_meta_only_consent_change(gateway: WooCommerceGateway) -> None:
    since = datetime(2026, 8, 1, 0, 0, tzinfo=UTC)
    old = "2017-03-21T19:09:30"
    unchanged = customer_payload(id=1, date_modified_gmt=old)
    # date_modified was not bumped by the meta write (woocommerce#27991); the consent was.
    meta_only = customer_payload(
        id=2,
        date_modified_gmt=old,
        meta_data=[consent_entry("email", "unsubscribed", "2026-08-01T09:30:00Z")],
    )
    edited = customer_payload(id=3, date_modified_gmt="2026-08-01T10:00:00")
    stale_consent = customer_payload(
        id=4,
        date_modified_gmt=old,
        meta_data=[consent_entry("sms", "subscribed", "2020-01-01T00:00:00Z")],
    )
    pages = {"1": [unchanged, meta_only], "2": [edited, stale_consent]}
    for page, items in pages.items():
        responses.get(
            f"{API}/customers",
            json=items,
            headers={"X-WP-Total": "4", "X-WP-TotalPages": "2"},
            match=[matchers.query_param_matcher({"page": page}, strict_match=False)],
        )

    found = list(gateway.customers_updated_since(access(), since))

    assert [c.remote_id for c in found] == ["2", "3"]
    [consent] = found[0].consents
    assert (consent.channel, consent.state) == (Channel.EMAIL, ConsentState.UNSUBSCRIBED)
    sent = query(responses.calls[0])
    assert sent == {"per_page": "100", "page": "1", "orderby": "id", "order": "asc", "role": "all"}
    # No cursor (the initial import): everyone.
    assert [c.remote_id for c in gateway.customers_updated_since(access(), None)] == [
        "1",
        "2",
        "3",
        "4",
    ]


@responses.activate
def test_a_malformed_customer_is_skipped_not_fatal(gateway: WooCommerceGateway) -> None:
    responses.get(
        f"{API}/customers",
        json=[
            customer_payload(id=1, date_created_gmt=None, date_modified_gmt=None),
            customer_payload(id=2),
        ],
        headers={"X-WP-TotalPages": "1"},
    )
    assert [c.remote_id for c in gateway.customers_updated_since(access(), None)] == ["2"]


@responses.activate
def test_orders_are_read_by_modification_time_in_id_order(gateway: WooCommerceGateway) -> None:
    responses.get(f"{API}/orders", json=[order_payload()], headers={"X-WP-TotalPages": "1"})
    since = datetime(2026, 8, 1, 14, 0, tzinfo=UTC)
    [order] = gateway.orders_updated_since(access(), since)
    assert order.remote_id == "727"
    assert query(responses.calls[0]) == {
        "per_page": "100",
        "page": "1",
        "orderby": "id",  # offset paging: a stable, unique order (see the gateway)
        "order": "asc",
        "dates_are_gmt": "true",
        "modified_after": "2026-08-01T13:59:59",  # "after" is exclusive; the port inclusive
    }
    # No cursor (the initial import): every order.
    assert len(list(gateway.orders_updated_since(access(), None))) == 1
    assert "modified_after" not in query(responses.calls[-1])


@responses.activate
def test_revoked_keys_surface_as_store_access_revoked(gateway: WooCommerceGateway) -> None:
    responses.get(f"{API}/customers", status=401, json={"code": "woocommerce_rest_cannot_view"})
    with pytest.raises(StoreAccessRevoked):
        list(gateway.customers_updated_since(access(), None))


# -- pushing consent ----------------------------------------------------------------------------


@responses.activate
def test_push_writes_the_channel_meta(gateway: WooCommerceGateway) -> None:
    responses.put(f"{API}/customers/25", json=customer_payload())
    assert gateway.push_consent(access(), push()) is PushOutcome.APPLIED
    body = json.loads(responses.calls[0].request.body)
    assert body == {
        "meta_data": [
            {
                "key": "patronkit_consent_email",
                "value": {
                    "state": "unsubscribed",
                    "level": "single",
                    "updated_at": "2026-08-01T12:00:00Z",
                    "wording_version": None,
                },
            }
        ]
    }
    # Safe to repeat: the same PUT again.
    assert gateway.push_consent(access(), push()) is PushOutcome.APPLIED
    assert responses.calls[1].request.body == responses.calls[0].request.body


@responses.activate
@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_is_supported(gateway: WooCommerceGateway, channel: Channel) -> None:
    responses.put(f"{API}/customers/25", json={})
    assert gateway.push_consent(access(), push(channel=channel)) is PushOutcome.APPLIED
    [entry] = json.loads(responses.calls[0].request.body)["meta_data"]
    assert entry["key"] == f"patronkit_consent_{channel.value}"


@responses.activate
@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "woocommerce_rest_invalid_id"),
        (400, "woocommerce_rest_invalid_id"),  # older stores answer 400
        (404, None),
    ],
)
def test_push_to_a_missing_customer_is_not_found(
    gateway: WooCommerceGateway, status: int, code: str | None
) -> None:
    responses.put(f"{API}/customers/25", status=status, json={"code": code} if code else {})
    assert gateway.push_consent(access(), push()) is PushOutcome.NOT_FOUND


@responses.activate
def test_push_with_a_non_numeric_id_is_not_found_without_a_call(
    gateway: WooCommerceGateway,
) -> None:
    assert gateway.push_consent(access(), push("../webhooks")) is PushOutcome.NOT_FOUND
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.parametrize("status", [401, 403])
def test_push_with_refused_keys_is_access_revoked(gateway: WooCommerceGateway, status: int) -> None:
    responses.put(
        f"{API}/customers/25", status=status, json={"code": "woocommerce_rest_cannot_edit"}
    )
    with pytest.raises(StoreAccessRevoked):
        gateway.push_consent(access(), push())


@responses.activate
def test_push_retries_throttling_and_outages(
    gateway: WooCommerceGateway, sleeps: list[float]
) -> None:
    responses.put(f"{API}/customers/25", status=429, headers={"Retry-After": "2"})
    responses.put(f"{API}/customers/25", body=requests.ConnectionError("reset"))
    responses.put(f"{API}/customers/25", status=503)
    responses.put(f"{API}/customers/25", json={})
    assert gateway.push_consent(access(), push()) is PushOutcome.APPLIED
    assert len(responses.calls) == 4
    assert sleeps[0] == 2.0  # Retry-After honoured
    assert len(sleeps) == 3


@responses.activate
def test_push_gives_up_as_store_unavailable(
    gateway: WooCommerceGateway, sleeps: list[float]
) -> None:
    responses.put(f"{API}/customers/25", status=500)
    with pytest.raises(StoreUnavailable):
        gateway.push_consent(access(), push())
    assert len(responses.calls) == gateway.config.retry.max_attempts


@responses.activate
def test_a_refused_push_is_store_unavailable_with_its_code(gateway: WooCommerceGateway) -> None:
    responses.put(f"{API}/customers/25", status=400, json={"code": "rest_invalid_param"})
    with pytest.raises(StoreUnavailable, match="rest_invalid_param"):
        gateway.push_consent(access(), push())


def test_a_shop_without_keys_is_a_configuration_error(gateway: WooCommerceGateway) -> None:
    with pytest.raises(WooCommerceConfigError):
        gateway.push_consent(ShopAccess(SITE, SITE, {}), push())
