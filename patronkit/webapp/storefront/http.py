"""Request helpers shared by the storefront's API and pages: who is asking, rate limits,
and refusals as JSON."""

from __future__ import annotations

from flask import Response, jsonify, request

from patronkit.webapp.client_ip import client_ip
from patronkit.webapp.ratelimit import RateLimiter, retry_after_header
from patronkit.webapp.storefront.model import Refusal, Shopper
from patronkit.webapp.storefront.services import storefront


def shopper() -> Shopper:
    agent = request.user_agent.string or None
    return Shopper(client_ip(request, storefront().trusted_proxies), agent)


def enforce(limiter: RateLimiter, key: str) -> None:
    wait = limiter.take(key)
    if wait is not None:
        raise Refusal(429, "rate_limited", "too many requests; try again later", retry_after=wait)


def limit_by_ip() -> None:
    enforce(storefront().per_ip, f"ip:{shopper().ip or 'unknown'}")


def refusal_response(refusal: Refusal) -> Response:
    extra = {k: v for k, v in refusal.extra.items() if k != "retry_after"}
    response = jsonify(error=refusal.code, message=refusal.message, **extra)
    response.status_code = refusal.status
    if "retry_after" in refusal.extra:
        response.headers["Retry-After"] = retry_after_header(refusal.extra["retry_after"])
    return response
