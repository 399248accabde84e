import pytest

from patronkit.adapters.shopify.shop_domain import (
    InvalidShopDomain,
    is_valid_shop_domain,
    normalize_shop_domain,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("demo.myshopify.com", "demo.myshopify.com"),
        ("Demo-Shop_1.MyShopify.com", "demo-shop_1.myshopify.com"),
        ("https://demo.myshopify.com/", "demo.myshopify.com"),
        ("http://demo.myshopify.com//", "demo.myshopify.com"),
        ("  demo.myshopify.com  ", "demo.myshopify.com"),
        ("demo.shopify.com", "demo.shopify.com"),
        ("demo.myshopify.io", "demo.myshopify.io"),
        ("demo.shop.dev", "demo.shop.dev"),
    ],
)
def test_accepts_and_normalizes(raw: str, expected: str) -> None:
    assert normalize_shop_domain(raw) == expected
    assert is_valid_shop_domain(raw)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "demo",
        "demo.example.com",
        "-demo.myshopify.com",
        "demo.myshopify.com.evil.com",
        "evil.com/demo.myshopify.com",
        "demo.myshopify.com/admin",
        "demo.myshopify.com:8443",
        "user@demo.myshopify.com",
        "demo.myshopify.com\nevil.com",
        "demo\n.myshopify.com",
        "demo.myshopify.com?x=1",
        "ftp://demo.myshopify.com",
        "a" * 300 + ".myshopify.com",
    ],
)
def test_rejects(raw: str | None) -> None:
    with pytest.raises(InvalidShopDomain):
        normalize_shop_domain(raw)
    assert not is_valid_shop_domain(raw)
