"""HTTP requests the store makes to other servers (webhooks, the key-exchange callback).

WordPress sends them with wp_safe_remote_*(), which refuses URLs on loopback or private
networks and ports other than 80, 443 and 8080 unless the host is the site's own. That
check is on only with `block_unsafe_urls`, since tests and demos run everything on
127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

SAFE_PORTS = (80, 443, 8080)


@dataclass
class OutboundResult:
    status: int | None  # None when WordPress would have got a WP_Error instead of a response
    error: str | None = None

    @property
    def code(self) -> int:
        """intval() of the response code, as WooCommerce compares it (0 for a WP_Error)."""
        return self.status or 0


def unsafe_reason(url: str, home_url: str) -> str | None:
    """Why wp_http_validate_url() would reject `url`, or None if it passes."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "A valid URL was not provided."
    home = urlsplit(home_url)
    same_host = parts.hostname == home.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not same_host:
        try:
            address = ipaddress.ip_address(socket.gethostbyname(parts.hostname))
        except (OSError, ValueError):
            return "A valid URL was not provided."
        if address.is_loopback or address.is_private or address.is_unspecified:
            return "A valid URL was not provided."
    if port in SAFE_PORTS:
        return None
    home_port = home.port or (443 if home.scheme == "https" else 80)
    if same_host and port == home_port:
        return None
    return "A valid URL was not provided."


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    follow_redirects: bool,
    home_url: str,
    block_unsafe_urls: bool,
) -> OutboundResult:
    if block_unsafe_urls:
        reason = unsafe_reason(url, home_url)
        if reason is not None:
            return OutboundResult(None, reason)
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            allow_redirects=follow_redirects,
        )
    except requests.RequestException as error:
        return OutboundResult(None, type(error).__name__)
    response.close()
    return OutboundResult(response.status_code)
