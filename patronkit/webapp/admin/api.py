"""JSON endpoints of the admin: session refresh, and the data behind the pages.

POST /admin/session                  platform token (Authorization: Bearer) → new session
GET  /admin/api/insights?span=       dashboard numbers
GET  /admin/api/customers/<id>       one customer's consent report
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue

from patronkit.core.domain.errors import InvalidValue
from patronkit.core.domain.values import utcnow
from patronkit.core.insights import RateSeries, Span
from patronkit.core.reports import customer_report
from patronkit.webapp.admin.blueprint import bp
from patronkit.webapp.admin.guard import current, refuse
from patronkit.webapp.admin.scope import reading


@bp.post("/session")
def refresh_session() -> ResponseReturnValue:
    """Swap a fresh platform token for a new session. Our own session is not accepted here:
    using a session must never extend it."""
    admin = current()
    if not admin.from_platform:
        return refuse(401, "a new session needs a token from the platform")
    return jsonify(
        session=admin.token,
        csrf_token=admin.csrf_token,
        expires_at=admin.expires_at,
        expires_in=admin.expires_in,
        shop=admin.shop_domain,
    )


def _series(series: list[RateSeries]) -> list[dict[str, Any]]:
    return [
        {
            "label": one.label,
            "points": [
                {
                    "at": p.at.isoformat(),
                    "numerator": p.numerator,
                    "denominator": p.denominator,
                    "rate": p.rate,
                }
                for p in one.points
            ],
        }
        for one in series
    ]


@bp.get("/api/insights")
def api_insights() -> ResponseReturnValue:
    try:
        span = Span.parse(request.args.get("span"))
    except InvalidValue as exc:
        return jsonify(error="bad request", detail=str(exc)), 400
    edges = span.edges(utcnow())
    with reading() as scope:
        counts = scope.insights.state_counts()
        by_channel = scope.insights.channel_rates(edges)
        by_touchpoint = scope.insights.touchpoint_rates(edges)
        recent = scope.insights.recent_events(20)
    return jsonify(
        span=span.value,
        counts=[
            {
                "channel": c.channel.value,
                "purpose": c.purpose,
                "subscribed": c.subscribed,
                "unsubscribed": c.unsubscribed,
                "pending": c.pending,
                "not_subscribed": c.not_subscribed,
            }
            for c in counts
        ],
        channel_rates=_series(by_channel),
        touchpoint_rates=_series(by_touchpoint),
        recent_events=[
            {
                "id": str(e.id),
                "customer_id": str(e.customer_id),
                "channel": e.channel.value,
                "purpose": e.purpose,
                "state": e.state.value,
                "source": e.source.value,
                "store": f"{e.shop_platform}:{e.shop_domain}" if e.shop_domain else None,
                "touchpoint": e.touchpoint,
                "occurred_at": e.occurred_at.isoformat(),
                "recorded_at": e.recorded_at.isoformat(),
            }
            for e in recent
        ],
    )


@bp.get("/api/customers/<uuid:customer_id>")
def api_customer(customer_id: UUID) -> ResponseReturnValue:
    with reading() as scope:
        found = scope.tenant.customers.find(customer_id)
        if found is None:
            abort(404)
        report = customer_report(found, scope.tenant.shops.list())
    return jsonify(report)
