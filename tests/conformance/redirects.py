"""The merchant's browser during an install: one expected redirect at a time."""

from __future__ import annotations

import requests


def follow(browser: requests.Session, url: str, expected: str) -> str:
    """GET `url` and return where it redirects, failing unless that starts with `expected`
    (the body, our own JSON error or the platform's page, says why)."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    location = response.headers.get("Location", "")
    if response.status_code not in (302, 303) or not location.startswith(expected):
        raise AssertionError(
            f"expected a redirect to {expected}, got HTTP {response.status_code} "
            f"to {location[:120]!r}: {response.text[:300]!r}"
        )
    return location
