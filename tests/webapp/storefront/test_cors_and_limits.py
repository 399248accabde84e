"""CORS: only the shop's storefront origins; rate limits per IP and per shop (429)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.webapp.storefront.conftest import SHOP_ORIGIN, Shop

CUSTOM_ORIGIN = "https://www.acme-outdoor.example"


def preflight(shop: Shop, origin: str, method: str = "POST", headers: str = "content-type"):  # type: ignore[no-untyped-def]
    return shop.client.options(
        f"{shop.base}/consents",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_the_shop_origin_passes_preflight_without_credentials(shop: Shop) -> None:
    answer = preflight(shop, SHOP_ORIGIN)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert answer.headers["Access-Control-Allow-Methods"] == "POST"
    assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("https://evil.example", "POST", "content-type"),
        ("http://acme.myshopify.com", "POST", "content-type"),  # not https
        ("https://acme.myshopify.com.evil.example", "POST", "content-type"),
        (SHOP_ORIGIN, "DELETE", "content-type"),
        (SHOP_ORIGIN, "POST", "content-type, authorization"),
    ],
)
def test_other_origins_methods_and_headers_fail_preflight(
    shop: Shop, origin: str, method: str, headers: str
) -> None:
    answer = preflight(shop, origin, method, headers)
    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_request_from_a_foreign_origin_is_refused_and_changes_nothing(shop: Shop) -> None:
    before = shop.state()
    answer = shop.client.post(
        f"{shop.base}/consents", json=shop.submission(), headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert answer.get_json()["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert shop.state() == before


def test_the_shop_origin_may_read_the_answers(shop: Shop) -> None:
    form = shop.client.get(f"{shop.base}/consent-form", headers={"Origin": SHOP_ORIGIN})
    assert form.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    posted = shop.client.post(
        f"{shop.base}/consents", json=shop.submission(), headers={"Origin": SHOP_ORIGIN}
    )
    assert posted.status_code == 200
    assert posted.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN


def test_a_custom_storefront_origin_from_settings_is_allowed(shop: Shop) -> None:
    # The policy caches for a few seconds; settings saved before the first request count.
    shop.settings(lambda s: s.set_storefront_origins([CUSTOM_ORIGIN]))
    assert preflight(shop, CUSTOM_ORIGIN).status_code == 204
    assert preflight(shop, SHOP_ORIGIN).status_code == 204
    assert preflight(shop, "https://acme-outdoor.example").status_code == 403


def test_requests_without_origin_are_not_browsers_and_pass(shop: Shop) -> None:
    answer = shop.client.get(f"{shop.base}/consent-form")
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_preflight_for_an_unknown_shop_is_404(shop: Shop) -> None:
    answer = shop.client.options(
        "/storefront/v1/shops/shopify/nobody.myshopify.com/consents",
        headers={"Origin": "https://nobody.myshopify.com", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 404


def test_per_ip_limit_answers_429_with_retry_after_and_changes_nothing(
    make: Callable[..., Shop],
) -> None:
    shop = make(overrides={"STOREFRONT_LIMIT_PER_IP": (3, 0.1)})
    for _ in range(3):
        assert shop.client.get(f"{shop.base}/consent-form").status_code == 200
    before = shop.state()
    answer = shop.client.post(f"{shop.base}/consents", json=shop.submission())
    assert answer.status_code == 429
    assert answer.get_json()["error"] == "rate_limited"
    assert answer.headers["Retry-After"] == "10"  # one token at 0.1/s
    assert shop.state() == before
    # A forged X-Forwarded-For does not buy a fresh bucket; another address has its own.
    forged = {"X-Forwarded-For": "203.0.113.77"}
    assert shop.client.get(f"{shop.base}/consent-form", headers=forged).status_code == 429
    other = {"REMOTE_ADDR": "203.0.113.77"}
    assert shop.client.get(f"{shop.base}/consent-form", environ_base=other).status_code == 200


def test_per_shop_limit_holds_across_addresses(make: Callable[..., Shop]) -> None:
    shop = make(overrides={"STOREFRONT_LIMIT_PER_SHOP": (4, 0.01)}, PATRONKIT_TRUSTED_PROXIES="1")
    statuses = [
        shop.client.get(
            f"{shop.base}/consent-form", headers={"X-Forwarded-For": f"203.0.113.{i}"}
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]
    # The per-shop bucket belongs to this shop only: the spec file is not limited by it.
    assert shop.client.get("/storefront/v1/openapi.json").status_code == 200


def test_pages_are_limited_per_ip_too(make: Callable[..., Shop]) -> None:
    shop = make(overrides={"STOREFRONT_LIMIT_PER_IP": (1, 0.5)})
    assert shop.client.get("/p/garbage").status_code == 400
    answer = shop.client.get("/p/garbage")
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "2"
