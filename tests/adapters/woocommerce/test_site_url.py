import pytest

from patronkit.adapters.woocommerce.site_url import (
    InvalidSiteUrl,
    is_valid_site_url,
    normalize_site_url,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        # X-WC-Webhook-Source is home_url('/'): the trailing slash must not matter.
        ("https://shop.example.com/", "https://shop.example.com"),
        ("HTTPS://Shop.Example.COM/", "https://shop.example.com"),
        ("shop.example.com", "https://shop.example.com"),  # what a merchant types
        ("  https://shop.example.com//  ", "https://shop.example.com"),
        ("https://example.com/Store/", "https://example.com/Store"),  # path case is kept
        ("https://example.com/a/b/", "https://example.com/a/b"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://example.com:8443/wp", "https://example.com:8443/wp"),
        ("http://[::1]:8000/wp/", "http://[::1]:8000/wp"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example"),
    ],
)
def test_normalizes(given: str, expected: str) -> None:
    assert normalize_site_url(given) == expected
    assert normalize_site_url(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "given",
    [
        None,
        "",
        "   ",
        "ftp://example.com",
        "javascript:alert(1)",
        "https://user:pass@example.com",
        "https://evil.example@shop.example.com",
        "https://example.com/?p=1",
        "https://example.com/#top",
        "https://",
        "https://exa mple.com",
        "https://ex\tample.com",  # urlsplit would silently drop the tab
        "https://example.com/a\nb",
        "https://-example.com",
        "https://example..com",
        "https://example.com:99999",
        "https://example.com/a/../b",
        "https://example.com/a//b",
        "https://[not:an:ip]/",
        "https://" + "a" * 260 + ".com",
    ],
)
def test_refuses(given: str | None) -> None:
    with pytest.raises(InvalidSiteUrl):
        normalize_site_url(given)
    assert not is_valid_site_url(given)
