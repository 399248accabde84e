"""A WooCommerce store's identity: its WordPress home URL, in one canonical form.

A WooCommerce store has no platform-issued domain: it is wherever WordPress lives, possibly
in a sub-folder (``https://example.com/shop``) or on a port. Webhooks name it in
``X-WC-Webhook-Source`` as ``home_url('/')``, with a trailing slash; merchants type it in any
case, with or without a scheme. Both must land on the same key, so every site URL that
reaches a connection lookup or an outbound request goes through `normalize_site_url`:

    scheme://host[:port][/path]   scheme and host lower-case, default port dropped,
                                  no trailing slash, no user info, query or fragment

The path keeps its case (WordPress paths are case-sensitive); core compares connection
domains case-insensitively anyway. A value that would point our requests (and the store's
keys) anywhere unexpected — user info, a query, a non-HTTP scheme — is refused.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_MAX_LENGTH = 255  # the length core allows for a connection's domain
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Letters, digits, hyphens and dots (IDNs arrive punycoded); IPv6 literals are checked apart.
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_PATH = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*")


class InvalidSiteUrl(ValueError):
    """The value is not a usable WooCommerce site URL."""


def normalize_site_url(value: str | None) -> str:
    """``value`` as ``scheme://host[:port][/path]``, or raise `InvalidSiteUrl`.

    ``Example.COM/Shop/`` → ``https://example.com/Shop``;
    ``http://127.0.0.1:8080/`` → ``http://127.0.0.1:8080``.
    """
    if value is None or not value.strip():
        raise InvalidSiteUrl("site URL is missing")
    text = value.strip()
    if len(text) > _MAX_LENGTH:
        raise InvalidSiteUrl("site URL is too long")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        # urlsplit silently drops tabs and newlines; refuse rather than guess.
        raise InvalidSiteUrl("site URL contains spaces or control characters")
    if "://" not in text:
        text = "https://" + text  # what a merchant types is a host name; stores use TLS
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidSiteUrl("site URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidSiteUrl("site URL must use http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidSiteUrl("site URL must not carry user info")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise InvalidSiteUrl("site URL must not carry a query or fragment")
    host = _host(parts.hostname)
    path = parts.path.rstrip("/")
    if not _PATH.fullmatch(path) or any(seg in ("", ".", "..") for seg in path.split("/")[1:]):
        raise InvalidSiteUrl("site URL has a malformed path")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}"


def _host(hostname: str | None) -> str:
    host = (hostname or "").lower()
    if ":" in host:  # urlsplit drops an IPv6 literal's brackets; the URL needs them back
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise InvalidSiteUrl("site URL has no valid host") from None
    if not _HOST.fullmatch(host) or ".." in host:
        raise InvalidSiteUrl("site URL has no valid host")
    return host


def is_valid_site_url(value: str | None) -> bool:
    """True when `normalize_site_url` would accept ``value``."""
    try:
        normalize_site_url(value)
    except InvalidSiteUrl:
        return False
    return True
