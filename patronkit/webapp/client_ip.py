"""The shopper's IP address, for consent evidence and rate limits.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the
settings say how many reverse proxies of ours stand in front of the app
(PATRONKIT_TRUSTED_PROXIES): the address the outermost of them saw is that many entries from
the right. Otherwise the socket's peer address is the only truth.
"""

from __future__ import annotations

import ipaddress

from flask import Request


def client_ip(request: Request, trusted_proxies: int) -> str | None:
    candidate = request.remote_addr
    if trusted_proxies > 0:
        hops = [
            part.strip()
            for header in request.headers.getlist("X-Forwarded-For")
            for part in header.split(",")
            if part.strip()
        ]
        if len(hops) >= trusted_proxies:
            candidate = hops[-trusted_proxies]
    if not candidate:
        return None
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
